using Microsoft.Extensions.Time.Testing;
using Skein.Core;
using Skein.Learning.Language;
using Skein.Learning.Registry;

namespace Skein.Learning.Tests.Registry;

public sealed class ModelRegistryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-registry-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static byte[] TinyModel(ulong seed) => TransformerConfig.Tiny.Layout().ToSafeTensors(TransformerConfig.Tiny.InitialParameters(seed));

    private static ModelRegistration Registration(ModelKind kind, string? parent = null) =>
        new("transformer-tiny", TransformerConfig.Tiny, kind) { Parent = parent, Description = "test" };

    private ModelRegistry Open() => new(_dir, _clock);

    /// <summary>base -> round 1 -> round 2 of task 7, each round with its contributors; returns the three hashes.</summary>
    private (string Base, string Round1, string Round2) Chain(ModelRegistry registry)
    {
        var root = registry.Put(TinyModel(1), Registration(ModelKind.Base)).Entry!;
        _clock.Advance(TimeSpan.FromMinutes(1));
        var round1 = registry.Put(TinyModel(2), Registration(ModelKind.Merged, root.Hash) with { TaskId = 7, Round = 1, Contributors = ["alice", "0xb0b"] }).Entry!;
        _clock.Advance(TimeSpan.FromMinutes(1));
        var round2 = registry.Put(TinyModel(3), Registration(ModelKind.Merged, round1.Hash) with { TaskId = 7, Round = 2, Contributors = ["carol"] }).Entry!;
        return (root.Hash, round1.Hash, round2.Hash);
    }

    [Fact]
    public void Put_stores_the_file_under_its_sha256_and_get_returns_what_was_registered()
    {
        using var registry = Open();
        var bytes = TinyModel(1);
        var result = registry.Put(bytes, Registration(ModelKind.Base) with { Description = "moby-dick: 300 steps" });

        Assert.True(result.Ok, result.Error);
        var entry = result.Entry!;
        Assert.Equal(Hashing.Sha256Hex(bytes), entry.Hash);
        Assert.Equal(bytes, File.ReadAllBytes(registry.PathOf(entry.Hash)));
        Assert.Equal(entry, registry.Get(entry.Hash)! with { Contributors = entry.Contributors });
        Assert.Equal(ModelKind.Base, entry.Kind);
        Assert.Equal(TransformerConfig.Tiny, entry.Config);
        Assert.Equal("moby-dick: 300 steps", entry.Description);
        Assert.Equal(_clock.GetUtcNow(), entry.CreatedAt);
        Assert.Equal(bytes.LongLength, entry.SizeBytes);
        Assert.Null(entry.Parent);
    }

    [Fact]
    public void A_registry_from_before_imports_gains_the_vocabulary_and_keeps_its_models()
    {
        string hash;
        using (var registry = Open())
        {
            hash = registry.Put(TinyModel(1), Registration(ModelKind.Base)).Entry!.Hash;
        }
        // The schema before BPE imports: no vocabulary column.
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dir, "registry.db")};Pooling=false"))
        {
            db.Open();
            using var drop = db.CreateCommand();
            drop.CommandText = "ALTER TABLE models DROP COLUMN vocabulary";
            drop.ExecuteNonQuery();
        }
        using (var registry = Open())
        {
            Assert.Equal(256, registry.Get(hash)!.Config.Vocabulary);
            var bpe = TransformerConfig.Tiny with { Vocabulary = 50 };
            var imported = registry.Put(bpe.Layout().ToSafeTensors(bpe.InitialParameters(2)), new ModelRegistration("gpt2-2x64-v50", bpe, ModelKind.Imported));
            Assert.True(imported.Ok, imported.Error);
            Assert.Equal(50, registry.Get(imported.Entry!.Hash)!.Config.Vocabulary);
        }
    }

    [Fact]
    public void Put_is_idempotent_by_hash()
    {
        using var registry = Open();
        var first = registry.Put(TinyModel(1), Registration(ModelKind.Base)).Entry!;
        _clock.Advance(TimeSpan.FromHours(1));
        var again = registry.Put(TinyModel(1), Registration(ModelKind.Imported) with { Description = "other" }).Entry!;

        Assert.Equal(first.Hash, again.Hash);
        Assert.Equal(first.CreatedAt, again.CreatedAt);
        Assert.Equal(ModelKind.Base, again.Kind);
        Assert.Single(registry.List());
    }

    [Fact]
    public void Lineage_walks_from_a_round_back_to_the_base_with_each_rounds_contributors()
    {
        using var registry = Open();
        var (root, round1, round2) = Chain(registry);

        var lineage = registry.Lineage(round2);

        Assert.Equal([round2, round1, root], lineage.Select(e => e.Hash));
        Assert.Equal(["carol"], lineage[0].Contributors);
        Assert.Equal(["alice", "0xb0b"], lineage[1].Contributors);
        Assert.Equal([2u, 1u], lineage.Take(2).Select(e => e.Round!.Value));
        Assert.All(lineage.Take(2), e => Assert.Equal(7ul, e.TaskId));
        Assert.Equal([root, round1, round2], registry.List().Select(e => e.Hash));
        Assert.Empty(registry.Lineage(new string('0', 64)));
    }

    [Fact]
    public void An_unregistered_parent_is_refused_and_nothing_is_stored()
    {
        using var registry = Open();
        var missing = Hashing.Sha256Hex("not a model"u8);

        var result = registry.Put(TinyModel(2), Registration(ModelKind.Merged, missing));

        Assert.False(result.Ok);
        Assert.Equal($"parent: {missing} is not a registered model; register the parent first", result.Error);
        Assert.Empty(registry.List());
        Assert.Empty(Directory.GetFiles(registry.FilesDirectory));
    }

    [Fact]
    public void A_merged_model_or_an_adapter_without_a_parent_is_refused()
    {
        using var registry = Open();
        Assert.Equal("parent: a model of kind merged needs the hash of the model it was made from", registry.Put(TinyModel(2), Registration(ModelKind.Merged)).Error);
        Assert.Equal("parent: a model of kind adapter needs the hash of the model it was made from", registry.Put(TinyModel(2), Registration(ModelKind.Adapter)).Error);
    }

    [Fact]
    public void Bytes_that_do_not_fit_the_architecture_are_refused()
    {
        using var registry = Open();
        var small = TransformerConfig.Small.Layout().ToSafeTensors(new float[TransformerConfig.Small.Layout().TotalCount]);

        Assert.StartsWith("file: not a transformer-tiny model in safetensors format", registry.Put(small, Registration(ModelKind.Base)).Error, StringComparison.Ordinal);
        Assert.StartsWith("file: not a transformer-tiny model in safetensors format", registry.Put("garbage"u8, Registration(ModelKind.Base)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_altered_on_disk_is_refused_when_read_and_restored_by_putting_it_again()
    {
        using var registry = Open();
        var bytes = TinyModel(1);
        var hash = registry.Put(bytes, Registration(ModelKind.Base)).Entry!.Hash;
        var tampered = (byte[])bytes.Clone();
        tampered[^1] ^= 0xFF;
        File.WriteAllBytes(registry.PathOf(hash), tampered);

        var read = registry.ReadFile(hash);

        Assert.False(read.Ok);
        Assert.Equal($"model file {registry.PathOf(hash)} has SHA-256 {Hashing.Sha256Hex(tampered)}, not the {hash} it is named by: it was altered or corrupted", read.Error);
        Assert.False(RegistryModels.Load(registry, registry.Get(hash)!).Ok);

        Assert.True(registry.Put(bytes, Registration(ModelKind.Base)).Ok);
        Assert.Equal(bytes, registry.ReadFile(hash).Bytes);
    }

    [Fact]
    public void A_missing_file_is_reported()
    {
        using var registry = Open();
        var hash = registry.Put(TinyModel(1), Registration(ModelKind.Base)).Entry!.Hash;
        File.Delete(registry.PathOf(hash));
        Assert.Equal($"model file {registry.PathOf(hash)} is missing", registry.ReadFile(hash).Error);
    }

    [Fact]
    public void Entries_survive_reopening_the_database()
    {
        string round2;
        IReadOnlyList<ModelEntry> before;
        using (var registry = Open())
        {
            round2 = Chain(registry).Round2;
            before = registry.Lineage(round2);
        }

        using var reopened = Open();
        var after = reopened.Lineage(round2);

        Assert.Equal(3, reopened.List().Count);
        Assert.Equal(before.Select(e => (e.Hash, e.Parent, e.Kind, e.Round, e.TaskId, string.Join(",", e.Contributors), e.CreatedAt)),
            after.Select(e => (e.Hash, e.Parent, e.Kind, e.Round, e.TaskId, string.Join(",", e.Contributors), e.CreatedAt)));
        Assert.True(reopened.ReadFile(round2).Ok);
    }

    [Fact]
    public void A_unique_prefix_of_eight_digits_resolves_and_shorter_or_unknown_ones_are_refused()
    {
        using var registry = Open();
        var hash = registry.Put(TinyModel(1), Registration(ModelKind.Base)).Entry!.Hash;

        Assert.Equal(hash, registry.Resolve(hash[..8].ToUpperInvariant()).Entry!.Hash);
        Assert.Equal(hash, registry.Resolve(hash).Entry!.Hash);
        Assert.Contains("at least 8", registry.Resolve(hash[..7]).Error, StringComparison.Ordinal);
        Assert.Contains("is not a model hash", registry.Resolve("zzzzzzzzzz").Error, StringComparison.Ordinal);
        var other = hash[0] == 'f' ? "e" : "f";
        Assert.StartsWith($"no model with hash {other}{hash[1..8]}", registry.Resolve(other + hash[1..8]).Error, StringComparison.Ordinal);
    }
}
