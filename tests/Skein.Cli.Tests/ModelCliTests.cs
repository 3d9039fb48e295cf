using System.Text.Json;
using Skein.Cli;
using Skein.Learning.Language;
using Skein.Learning.Registry;

namespace Skein.Cli.Tests;

public sealed class ModelCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-model-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] TinyModel(ulong seed) => TransformerConfig.Tiny.Layout().ToSafeTensors(TransformerConfig.Tiny.InitialParameters(seed));

    /// <summary>Fills the registry in the test's data folder with base -> round 1 -> round 2, as a coordinator would.</summary>
    private (string Base, string Round1, string Round2) Chain()
    {
        using var registry = new ModelRegistry(ModelRegistry.DefaultDirectory(_dir));
        var tiny = new ModelRegistration("transformer-tiny", TransformerConfig.Tiny, ModelKind.Base) { Description = "seeded init" };
        var root = registry.Put(TinyModel(1), tiny).Entry!.Hash;
        var round1 = registry.Put(TinyModel(2), tiny with { Kind = ModelKind.Merged, Parent = root, TaskId = 3, Round = 1, Contributors = ["alice", "bob"] }).Entry!.Hash;
        var round2 = registry.Put(TinyModel(3), tiny with { Kind = ModelKind.Merged, Parent = round1, TaskId = 3, Round = 2, Contributors = ["carol"] }).Entry!.Hash;
        return (root, round1, round2);
    }

    private Task<(int Code, string Out, string Err)> Run(params string[] args) => CliRun.Run([.. args, "--data-dir", _dir]);

    [Fact]
    public async Task Import_registers_a_gpt2_checkpoint_with_its_vocabulary_and_refuses_a_broken_one()
    {
        var folder = Skein.Learning.Tests.Language.TinyGpt2.WriteFolder(Skein.Learning.Tests.Language.TinyGpt2.Config(), new Skein.Learning.Tests.Language.TinyGpt2(4).Entries());
        try
        {
            var (code, stdout, err) = await Run("model", "import", folder, "--json");
            Assert.True(code == ExitCodes.Ok, err);
            string hash;
            using (var json = JsonDocument.Parse(stdout))
            {
                hash = json.RootElement.GetProperty("hash").GetString()!;
                Assert.Equal(50, json.RootElement.GetProperty("vocabulary").GetInt32());
                Assert.Equal("gpt2-2x16-v50", json.RootElement.GetProperty("architecture").GetString());
                Assert.False(json.RootElement.GetProperty("tokenizer").GetBoolean());
            }
            (code, stdout, _) = await Run("model", "show", hash, "--json");
            Assert.Equal(ExitCodes.Ok, code);
            using (var json = JsonDocument.Parse(stdout))
            {
                Assert.Equal("imported", json.RootElement.GetProperty("kind").GetString());
                Assert.Equal(50, json.RootElement.GetProperty("config").GetProperty("vocabulary").GetInt32());
            }
            // The same checkpoint imports to the same entry.
            (code, stdout, _) = await Run("model", "import", folder, "--json");
            using (var json = JsonDocument.Parse(stdout))
            {
                Assert.Equal(hash, json.RootElement.GetProperty("hash").GetString());
            }
            File.Delete(Path.Combine(folder, "model.safetensors"));
            (code, _, err) = await Run("model", "import", folder);
            Assert.Equal(ExitCodes.InvalidOptions, code);
            Assert.Contains("model.safetensors is missing", err, StringComparison.Ordinal);
            (code, _, err) = await Run("model", "import", Path.Combine(_dir, "nowhere"));
            Assert.Equal(ExitCodes.InvalidOptions, code);
            Assert.Contains("folder: ", err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Demo_text_refuses_bad_options_before_fetching_anything()
    {
        var (code, _, err) = await Run("demo", "text", "--rounds", "0", "--lr", "2");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--rounds must be between 1 and 1000, got 0", err, StringComparison.Ordinal);
        Assert.Contains("--lr must be in (0, 1), got 2", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "models")), "nothing was pretrained or registered");
    }

    [Fact]
    public async Task Demo_tournament_refuses_bad_options_before_fetching_anything()
    {
        var (code, _, err) = await Run("demo", "tournament", "--windows", "0", "--pretrain-steps", "0");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--windows must be between 1 and 100, got 0", err, StringComparison.Ordinal);
        Assert.Contains("--pretrain-steps must be between 1 and 1000000, got 0", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "models")), "nothing was pretrained or registered");
    }

    [Theory]
    [InlineData("200")]
    [InlineData("0:0.1")]
    [InlineData("200:1.5")]
    [InlineData("x:0.1")]
    public void A_tournament_try_is_steps_colon_lr_or_refused_naming_the_option(string text) =>
        Assert.StartsWith("--try: must be steps:lr", Assert.Throws<ArgumentException>(() => Network.NetworkCommands.ParseTry(text)).Message, StringComparison.Ordinal);

    [Fact]
    public void A_tournament_try_parses_its_steps_and_rate() =>
        Assert.Equal(new Node.TournamentTry(200, 0.005), Network.NetworkCommands.ParseTry("200:0.005"));

    [Fact]
    public async Task List_prints_every_model_as_one_json_object()
    {
        var (root, round1, round2) = Chain();
        var (code, stdout, _) = await Run("model", "list", "--json");

        Assert.Equal(ExitCodes.Ok, code);
        using var json = JsonDocument.Parse(stdout);
        var models = json.RootElement.GetProperty("models").EnumerateArray().ToList();
        Assert.Equal([root, round1, round2], models.Select(m => m.GetProperty("hash").GetString()));
        Assert.Equal("base", models[0].GetProperty("kind").GetString());
        Assert.Equal(64, models[0].GetProperty("config").GetProperty("context").GetInt32());
    }

    [Fact]
    public async Task Show_accepts_a_prefix_and_lineage_walks_back_to_the_base()
    {
        var (root, round1, round2) = Chain();

        var (code, stdout, _) = await Run("model", "show", round1[..8], "--json");
        Assert.Equal(ExitCodes.Ok, code);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal(round1, json.RootElement.GetProperty("hash").GetString());
            Assert.Equal(root, json.RootElement.GetProperty("parent").GetString());
            Assert.Equal(["alice", "bob"], json.RootElement.GetProperty("contributors").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal(1, json.RootElement.GetProperty("round").GetInt32());
        }

        (code, stdout, _) = await Run("model", "lineage", round2, "--json");
        Assert.Equal(ExitCodes.Ok, code);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal([round2, round1, root], json.RootElement.GetProperty("lineage").EnumerateArray().Select(m => m.GetProperty("hash").GetString()));
        }
    }

    [Fact]
    public async Task Generate_is_deterministic_for_a_seed()
    {
        var (root, _, _) = Chain();

        var first = await Run("model", "generate", root, "--prompt", "Call me", "--bytes", "40", "--seed", "5", "--json");
        var second = await Run("model", "generate", root, "--prompt", "Call me", "--bytes", "40", "--seed", "5", "--json");

        Assert.Equal(ExitCodes.Ok, first.Code);
        Assert.Equal(first.Out, second.Out);
        using var json = JsonDocument.Parse(first.Out);
        Assert.Equal("Call me", json.RootElement.GetProperty("prompt").GetString());
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task Export_writes_the_file_whose_hash_is_the_models()
    {
        var (root, _, _) = Chain();
        var path = Path.Combine(_dir, "out.safetensors");

        var (code, _, _) = await Run("model", "export", root, "--out", path, "--json");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(root, Skein.Core.Hashing.Sha256Hex(File.ReadAllBytes(path)));
        Assert.Equal(ExitCodes.InvalidOptions, (await Run("model", "export", root, "--out", path)).Code);
    }

    [Theory]
    [InlineData("show", "0123456", "HASH: '0123456' is not a model hash")]
    [InlineData("lineage", "0123456789", "HASH: no model with hash 0123456789... is registered")]
    public async Task Bad_or_unknown_hashes_name_the_argument_and_the_rule(string verb, string hash, string message)
    {
        Chain();
        var (code, stdout, stderr) = await Run("model", verb, hash, "--json");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Empty(stdout);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_file_fails_generation_with_a_verification_error()
    {
        var (root, _, _) = Chain();
        var path = Path.Combine(ModelRegistry.DefaultDirectory(_dir), "files", root + ".safetensors");
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 1;
        File.WriteAllBytes(path, bytes);

        var (code, _, stderr) = await Run("model", "generate", root, "--prompt", "x", "--json");

        Assert.Equal(ExitCodes.VerificationFailed, code);
        Assert.Contains("it was altered or corrupted", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--size", "transformer-huge", "--size: 'transformer-huge' is not one of transformer-tiny, transformer-small")]
    [InlineData("--corpus", "bible", "--corpus: 'bible' is not one of moby-dick, sotu")]
    [InlineData("--steps", "0", "--steps: must be in [1, 1000000], got 0")]
    public async Task Pretrain_options_are_checked_before_any_download(string option, string value, string message)
    {
        var (code, _, stderr) = await Run("model", "pretrain", option, value, "--json");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "moby-dick")));
    }
}
