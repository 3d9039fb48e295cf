using System.Runtime.Versioning;
using System.Text.Json.Nodes;
using Skein.Market.Runtime;

namespace Skein.Market.Tests.Runtime;

/// <summary>What the Docker runtime asks of the engine: the create request, the stop timeout, pulls, and what it says without one.</summary>
[SupportedOSPlatform("linux")]
public sealed class DockerRuntimeTests : IAsyncLifetime
{
    private readonly FakeDockerEngine _engine = new();
    private DockerRuntime _runtime = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await _engine.StartAsync();
        _runtime = new DockerRuntime(new DockerRuntimeOptions { SocketPath = _engine.SocketPath, CpuPool = [0, 1, 2, 3], GpuPool = [0, 1] });
    }

    public async ValueTask DisposeAsync()
    {
        _runtime.Dispose();
        await _engine.DisposeAsync();
    }

    private static WorkloadSpec Spec(string script, WorkloadResources resources, string image = "test/sh") => new(
        "0xabc-12-1-1-web-0",
        "web",
        image,
        [],
        [script],
        new Dictionary<string, string> { ["MODE"] = "train", ["SKEIN_KEY_PASSWORD"] = "pa55word-xyz" },
        resources,
        new Dictionary<string, string> { ["akash.network/lease"] = "12" });

    [Fact]
    public async Task Create_request_carries_env_labels_limits_cpuset_and_gpus()
    {
        var spec = Spec("sleep 120", new WorkloadResources(1500, 512UL << 20, 1UL << 30, 1));

        var status = await _runtime.StartAsync(spec, Ct);

        Assert.Equal(WorkloadState.Running, status.State);
        var create = _engine.CreateRequestOf(spec.Id);
        Assert.Equal("test/sh", create["Image"]!.GetValue<string>());
        Assert.Null(create["Entrypoint"]);
        Assert.Equal(["sleep 120"], Strings(create["Cmd"]));
        Assert.Equal(["MODE=train", "SKEIN_KEY_PASSWORD=pa55word-xyz"], Strings(create["Env"]).Order());
        var labels = create["Labels"]!.AsObject();
        Assert.Equal(spec.Id, labels["skein.workload"]!.GetValue<string>());
        Assert.Equal("web", labels["skein.service"]!.GetValue<string>());
        Assert.Equal("12", labels["akash.network/lease"]!.GetValue<string>());
        var host = create["HostConfig"]!.AsObject();
        Assert.Equal(512L << 20, host["Memory"]!.GetValue<long>());
        Assert.Equal(1_500_000_000L, host["NanoCpus"]!.GetValue<long>());
        Assert.Equal(2, host["CpusetCpus"]!.GetValue<string>().Split(',').Length);
        var gpu = Assert.Single(host["DeviceRequests"]!.AsArray())!;
        Assert.Equal("nvidia", gpu["Driver"]!.GetValue<string>());
        Assert.Single(Strings(gpu["DeviceIDs"]));
        Assert.Equal(["gpu"], Strings(gpu["Capabilities"]![0]));
        Assert.Contains(status.LimitNotes, n => n.StartsWith("storage limit not enforced", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Command_replaces_the_entrypoint_and_args_the_cmd()
    {
        var spec = Spec("unused", new WorkloadResources(0, 0, 0, 0)) with { Command = ["/bin/sh", "-c"], Args = ["echo via-command"] };

        await _runtime.StartAsync(spec, Ct);

        var create = _engine.CreateRequestOf(spec.Id);
        Assert.Equal(["/bin/sh", "-c"], Strings(create["Entrypoint"]));
        Assert.Equal(["echo via-command"], Strings(create["Cmd"]));
        Assert.Null(create["HostConfig"]!["CpusetCpus"]);
        Assert.Null(create["HostConfig"]!["DeviceRequests"]);
    }

    [Fact]
    public async Task Stop_passes_the_grace_as_whole_seconds()
    {
        var spec = Spec("sleep 120", new WorkloadResources(0, 0, 0, 0));
        await _runtime.StartAsync(spec, Ct);

        await _runtime.StopAsync(spec.Id, TimeSpan.FromMilliseconds(2500), Ct);

        Assert.Contains($"POST /v1.41/containers/{spec.Id}/stop?t=3", _engine.Requests);
    }

    [Fact]
    public async Task Missing_image_is_pulled_once_then_created()
    {
        var spec = Spec("echo pulled", new WorkloadResources(0, 0, 0, 0), image: "pull/app:1");

        var status = await _runtime.StartAsync(spec, Ct);

        Assert.NotEqual(WorkloadState.Failed, status.State);
        Assert.Single(_engine.Requests, r => r.StartsWith("POST /v1.41/images/create?fromImage=pull%2Fapp%3A1", StringComparison.Ordinal));
        Assert.Equal(2, _engine.Requests.Count(r => r.StartsWith("POST /v1.41/containers/create", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task GPUs_beyond_the_pool_fail_the_start_and_free_nothing_twice()
    {
        var first = await _runtime.StartAsync(Spec("sleep 120", new WorkloadResources(0, 0, 0, 2)), Ct);
        var second = await _runtime.StartAsync(Spec("sleep 120", new WorkloadResources(0, 0, 0, 1)) with { Id = "other-0" }, Ct);

        Assert.Equal(WorkloadState.Running, first.State);
        Assert.Equal(WorkloadState.Failed, second.State);
        Assert.Equal("needs 1 GPU(s); 0 of 2 free", second.Error);
        Assert.DoesNotContain(_engine.Requests, r => r.Contains("name=other-0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Containers_without_the_workload_label_are_not_the_runtimes()
    {
        var spec = Spec("sleep 120", new WorkloadResources(0, 0, 0, 0));
        await _runtime.StartAsync(spec, Ct);
        _engine.CreateRequestOf(spec.Id)["Labels"]!.AsObject().Remove("skein.workload");

        Assert.Null(await _runtime.GetStatusAsync(spec.Id, Ct));
        Assert.Empty(await _runtime.ListAsync(Ct));
    }

    [Fact]
    public async Task Without_an_engine_probe_says_none_answers_and_calls_fail_as_transient()
    {
        var socket = Path.Combine(Path.GetTempPath(), "skein-no-engine-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
        using var absent = new DockerRuntime(new DockerRuntimeOptions { SocketPath = socket });

        var caps = await absent.ProbeAsync(Ct);
        var error = await Assert.ThrowsAsync<WorkloadRuntimeException>(() => absent.ListAsync(Ct));

        Assert.False(caps.Available);
        Assert.StartsWith($"no Docker engine answers at {socket}", caps.UnavailableReason, StringComparison.Ordinal);
        Assert.False(caps.MemoryLimit.Enforced);
        Assert.True(error.IsTransient);
        Assert.StartsWith("no Docker engine answers at", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_reports_what_the_engine_enforces()
    {
        var caps = await _runtime.ProbeAsync(Ct);

        Assert.True(caps.MemoryLimit.Enforced);
        Assert.True(caps.CpuQuota.Enforced);
        Assert.True(caps.CpuAffinity.Enforced);
        Assert.True(caps.Gpu.Enforced);
        Assert.Contains(caps.Notes, n => n.Contains("fake-27.0", StringComparison.Ordinal));
    }

    private static string[] Strings(JsonNode? array) => [.. array!.AsArray().Select(n => n!.GetValue<string>())];
}
