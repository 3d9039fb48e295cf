using System.CommandLine;
using System.Text.Json;
using Skein.Learning.Data;

namespace Skein.Cli;

/// <summary>`skein data fetch`: put MNIST into the cache (or check a folder) ahead of a run.</summary>
public static class DataCommand
{
    public static Command Build()
    {
        var data = new Command("data", "Datasets: fetch and verify");
        var fetch = new Command("fetch", "Fetch MNIST into the per-user cache and verify it against the pinned SHA-256");
        var dataOptions = new DataOptions();
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object on stdout" };
        dataOptions.AddTo(fetch);
        fetch.Add(json);
        fetch.SetAction(async (parse, ct) =>
        {
            using var loggers = CliLogging.Create();
            try
            {
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
            catch (Exception ex) when (ex is DataUnavailableException or DataIntegrityException)
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.DataUnavailable, [ex.Message]);
            }
        });
        data.Add(fetch);
        return data;
    }
}
