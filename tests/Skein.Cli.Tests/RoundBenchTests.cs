using System.Text.Json;

namespace Skein.Cli.Tests;

/// <summary>A small <c>skein bench round</c>: real rounds, the light-node case and the upload against a bare HTTP/2 POST, all reported in its JSON.</summary>
public sealed class RoundBenchTests() : SkeinProcesses("skein-round-bench-", "round-bench-")
{
    [Fact]
    public async Task A_small_run_reports_rounds_the_light_case_and_the_upload_ratio()
    {
        var ct = TestContext.Current.CancellationToken;
        // A process of its own: the upload is timed from a second process, which the bench starts as itself.
        var bench = Start("bench", "round", "--nodes", "3", "--samples", "30", "--rounds", "3", "--upload-mb", "7",
            "--light-nodes", "5,20", "--light-training-ms", "200", "--json");
        var stdout = await bench.StandardOutput.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(300), ct);
        await bench.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.True(bench.ExitCode == 0, string.Join("\n", Directory.GetFiles(Dir, "*.log").Select(File.ReadAllText)));
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;

        var round = Assert.Single(root.GetProperty("rounds").EnumerateArray());
        Assert.Equal(3, round.GetProperty("nodes").GetInt32());
        Assert.True(round.GetProperty("round_seconds").GetDouble() >= round.GetProperty("training_phase_seconds").GetDouble());

        var light = root.GetProperty("light");
        Assert.Equal(20, light.GetProperty("nodes").GetInt32());
        Assert.Equal("logreg", light.GetProperty("model").GetString());
        var lightRound = Assert.Single(light.GetProperty("rounds").EnumerateArray());
        // The simulated training is waited out, so every round lasts at least that long.
        Assert.True(lightRound.GetProperty("longest_training_seconds").GetDouble() >= 0.2, light.ToString());
        Assert.True(lightRound.GetProperty("ratio").GetDouble() >= 1, light.ToString());
        Assert.True(light.GetProperty("managed_kb_per_node").GetDouble() > 0, light.ToString());
        // Every light run is listed, and summarised beside the real ones; "light" is the largest.
        Assert.Equal([5, 20], root.GetProperty("light_runs").EnumerateArray().Select(r => r.GetProperty("nodes").GetInt32()));
        var summary = root.GetProperty("summary").EnumerateArray().Select(e => (Nodes: e.GetProperty("nodes").GetInt32(), Light: e.GetProperty("light").GetBoolean())).ToArray();
        Assert.Equal([(3, false), (5, true), (20, true)], summary);

        var upload = root.GetProperty("upload");
        Assert.Equal(2, upload.GetProperty("updates").GetInt32()); // 7 MB in CNN updates of 6.65 MB
        Assert.Equal(upload.GetProperty("updates").GetInt64() * upload.GetProperty("update_bytes").GetInt64(), upload.GetProperty("bytes").GetInt64());
        var ratio = upload.GetProperty("upload_vs_http2").GetDouble();
        Assert.InRange(ratio, 0.01, 10);
        // Within rounding: both seconds are rounded in the JSON, so their quotient can straddle a decimal the ratio does not.
        Assert.Equal(upload.GetProperty("http2_seconds").GetDouble() / upload.GetProperty("grpc_seconds").GetDouble(), ratio, 0.05);
        // CPU time of both processes, for each path, and what the cores allow.
        var uploadCpu = upload.GetProperty("upload_cpu_seconds").GetDouble();
        var http2Cpu = upload.GetProperty("http2_cpu_seconds").GetDouble();
        Assert.True(uploadCpu > 0 && http2Cpu > 0, upload.ToString());
        // Both sides are rounded to the millisecond in the JSON, hence the tolerance.
        Assert.Equal(http2Cpu / uploadCpu, upload.GetProperty("cpu_bound_ratio").GetDouble(), 0.1);
        Assert.Equal(Environment.ProcessorCount, upload.GetProperty("cores").GetInt32());
    }
}
