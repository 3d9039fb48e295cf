using Skein.Learning.Data;

namespace Skein.Learning.Tests;

public sealed class TextPartitionerTests
{
    // The real corpus's shape: one address a year from 1790 to 2021, two in 1953 and 1961 (outgoing and incoming presidents).
    private static readonly SotuSpeech[] Speeches = Enumerable.Range(1790, 2021 - 1790 + 1)
        .Select(y => new SotuSpeech($"{y}_president_{y / 8}_x", y, $"President {y / 8}", y % 2 == 0 ? "A" : "B", $"Speech of {y}."))
        .Concat([new SotuSpeech("1953_outgoing_x", 1953, "Outgoing", "A", "Farewell."), new SotuSpeech("1961_outgoing_x", 1961, "Outgoing", "B", "Farewell.")])
        .Reverse()
        .ToArray();

    [Fact]
    public void The_era_partition_is_deterministic_disjoint_and_covers_every_speech()
    {
        var a = TextPartitioner.ByEra(Speeches, trainers: 4, validators: 2, heldOutFraction: 0.1, seed: 7);
        var b = TextPartitioner.ByEra(Speeches, trainers: 4, validators: 2, heldOutFraction: 0.1, seed: 7);
        Assert.Equal(Ids(a), Ids(b));

        var all = a.Trainers.Concat(a.Validators).SelectMany(s => s.Speeches).Select(s => s.Id).ToArray();
        Assert.Equal(all.Length, all.Distinct().Count());
        Assert.Equal(Speeches.Select(s => s.Id).Order(), all.Order());
        Assert.Equal(23, a.Validators.Sum(v => v.Speeches.Count));
        Assert.All(a.Trainers, t => Assert.InRange(t.Speeches.Count, 45, 60));
    }

    [Fact]
    public void Trainers_hold_contiguous_eras_that_never_share_a_year()
    {
        var p = TextPartitioner.ByEra(Speeches, trainers: 5, validators: 0, heldOutFraction: 0, seed: 1);
        Assert.Equal(["trainer-01", "trainer-02", "trainer-03", "trainer-04", "trainer-05"], p.Trainers.Select(t => t.Name));
        for (var i = 1; i < p.Trainers.Count; i++)
        {
            Assert.True(p.Trainers[i - 1].LastYear < p.Trainers[i].FirstYear, $"{p.Trainers[i - 1].Name} overlaps {p.Trainers[i].Name}");
        }
        // Contiguous: each trainer has every year in its range, so its presidents are its own.
        Assert.All(p.Trainers, t => Assert.Equal(t.LastYear - t.FirstYear + 1, t.Speeches.Select(s => s.Year).Distinct().Count()));
        Assert.Equal(1790, p.Trainers[0].FirstYear);
        Assert.Equal(2021, p.Trainers[^1].LastYear);
        Assert.Empty(p.Validators);
    }

    [Fact]
    public void Validators_get_a_seeded_held_out_sample_that_spans_the_eras()
    {
        var p = TextPartitioner.ByEra(Speeches, trainers: 3, validators: 2, heldOutFraction: 0.2, seed: 42);
        var other = TextPartitioner.ByEra(Speeches, trainers: 3, validators: 2, heldOutFraction: 0.2, seed: 43);
        Assert.NotEqual(p.Validators.SelectMany(v => v.Speeches).Select(s => s.Id), other.Validators.SelectMany(v => v.Speeches).Select(s => s.Id));
        Assert.All(p.Validators, v =>
        {
            Assert.InRange(v.FirstYear, 1790, 1830);
            Assert.InRange(v.LastYear, 1980, 2021);
        });
    }

    [Fact]
    public void Too_many_trainers_for_the_years_is_an_argument_error()
    {
        Assert.Throws<ArgumentException>(() => TextPartitioner.ByEra(Speeches.Take(3).ToArray(), trainers: 4, validators: 0, heldOutFraction: 0, seed: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextPartitioner.ByEra(Speeches, trainers: 2, validators: 1, heldOutFraction: 1, seed: 1));
    }

    [Fact]
    public async Task Shards_are_written_as_folders_of_txt_files_a_node_reads_back()
    {
        var root = Directory.CreateTempSubdirectory("skein-textparts-").FullName;
        try
        {
            var p = TextPartitioner.ByEra(Speeches, trainers: 2, validators: 1, heldOutFraction: 0.05, seed: 3);
            var folders = await TextPartitioner.WriteFoldersAsync(p, root, TestContext.Current.CancellationToken);
            Assert.Equal(["trainer-01", "trainer-02", "validator-01"], folders.Keys.Order());

            var docs = await TextFolderReader.ReadAsync(folders["trainer-02"], TestContext.Current.CancellationToken);
            Assert.Equal(p.Trainers[1].Speeches.Select(s => s.Id + ".txt").Order(StringComparer.Ordinal), docs.Select(d => d.Id));
            Assert.Equal(p.Trainers[1].Speeches.Single(s => s.Year == 2021).Text, docs.Single(d => d.Id.StartsWith("2021_", StringComparison.Ordinal)).Text);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string[][] Ids(TextPartition p) =>
        p.Trainers.Concat(p.Validators).Select(s => s.Speeches.Select(x => x.Id).ToArray()).ToArray();
}
