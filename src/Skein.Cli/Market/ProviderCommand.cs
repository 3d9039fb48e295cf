using System.CommandLine;
using System.Globalization;
using Skein.Cli.Ledger;
using Skein.Ledger.Market;
using Skein.Market.Provider;
using Skein.Market.Runtime;
using Skein.Market.Sdl;

namespace Skein.Cli.Market;

/// <summary>`skein provider`: sell this machine's compute on the market: register, bid, run leased nodes, get paid.</summary>
public static class ProviderCommand
{
    public static Command Build()
    {
        var command = new Command("provider", "Run a compute provider: register on the market, bid on orders that fit, run leased workloads, withdraw earnings (binds 127.0.0.1 unless told otherwise)");
        var market = new MarketCliOptions();
        var state = new Option<string>("--state-dir") { Description = "Folder for the provider's store and its workloads", Required = true, HelpName = "folder" };
        var host = new Option<string>("--host") { Description = "Address the provider's endpoint listens on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port of the endpoint (0: any free port; the URL is printed)", DefaultValueFactory = _ => 0 };
        var publicUrl = new Option<string?>("--public-url") { Description = "URL to register as the host URI, when tenants reach the endpoint through another address", HelpName = "url" };
        var attributes = new Option<string[]>("--attribute") { Description = "An attribute to advertise, key=value (repeatable), e.g. region=eu", HelpName = "key=value" };
        var cpu = new Option<string?>("--cpu") { Description = "CPU to sell, in cores or millicores (\"6\", \"1500m\"; default: this machine's cores)" };
        var memory = new Option<string?>("--memory") { Description = "Memory to sell (\"16Gi\"; default: this machine's memory)" };
        var storage = new Option<string?>("--storage") { Description = "Storage to sell (\"100Gi\"; default: free space of --state-dir)" };
        var gpus = new Option<string[]>("--gpu") { Description = "GPUs to sell, model=count (repeatable), e.g. a100=2 (vendor nvidia)", HelpName = "model=count" };
        var priceCpu = new Option<decimal>("--price-cpu") { Description = "Scale pricing: denomination units per core per block", DefaultValueFactory = _ => 100m };
        var priceMemory = new Option<decimal>("--price-memory") { Description = "Scale pricing: units per GiB of memory per block", DefaultValueFactory = _ => 20m };
        var priceStorage = new Option<decimal>("--price-storage") { Description = "Scale pricing: units per GiB of storage per block", DefaultValueFactory = _ => 1m };
        var priceGpu = new Option<string[]>("--price-gpu") { Description = "Scale pricing: units per GPU per block by model, model=price (repeatable)", HelpName = "model=price" };
        var priceGpuDefault = new Option<decimal>("--price-gpu-default") { Description = "Scale pricing: units per GPU per block for models not listed", DefaultValueFactory = _ => 2_000m };
        var script = new Option<string?>("--price-script") { Description = "Price with a script instead (Akash's contract: the order as JSON on stdin, a price per block on stdout)", HelpName = "file" };
        var scriptTimeout = new Option<double>("--price-script-timeout") { Description = "Seconds the price script may take", DefaultValueFactory = _ => 5 };
        var runtime = new Option<string>("--runtime") { Description = "process (child processes) or docker (needs a Docker engine)", DefaultValueFactory = _ => "process" };
        var withdraw = new Option<double>("--withdraw-every") { Description = "Seconds between withdrawals of what leases earned", DefaultValueFactory = _ => 600 };
        var poll = new Option<int>("--poll-ms") { Description = "Milliseconds between looks at open orders and leases", DefaultValueFactory = _ => 500 };
        market.AddTo(command);
        foreach (var o in new Option[] { state, host, port, publicUrl, attributes, cpu, memory, storage, gpus, priceCpu, priceMemory, priceStorage, priceGpu, priceGpuDefault, script, scriptTimeout, runtime, withdraw, poll })
        {
            command.Add(o);
        }
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var folder = parse.GetValue(state)!;
            Directory.CreateDirectory(folder);
            var capacity = new ProviderCapacity(
                parse.GetValue(cpu) is { } c ? Cpu(c) : (ulong)Environment.ProcessorCount * 1000,
                parse.GetValue(memory) is { } m ? Size(m, "--memory") : (ulong)GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
                parse.GetValue(storage) is { } s ? Size(s, "--storage") : (ulong)new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace,
                (parse.GetValue(gpus) ?? []).Select(g => Pair(g, "--gpu")).Select(p => new GpuCount("nvidia", p.Key,
                    uint.TryParse(p.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"--gpu: {p.Key}={p.Value}: the count must be a positive integer"))).ToArray());
            IBidPricing pricing = parse.GetValue(script) is { } path
                ? File.Exists(path) ? new ScriptPricing(Path.GetFullPath(path), TimeSpan.FromSeconds(parse.GetValue(scriptTimeout))) : throw new ArgumentException($"--price-script: '{path}' does not exist")
                : new ScalePricing(parse.GetValue(priceCpu), parse.GetValue(priceMemory), parse.GetValue(priceStorage),
                    (parse.GetValue(priceGpu) ?? []).Select(g => Pair(g, "--price-gpu")).ToDictionary(p => p.Key, p => decimal.Parse(p.Value, CultureInfo.InvariantCulture), StringComparer.OrdinalIgnoreCase),
                    parse.GetValue(priceGpuDefault));
            var options = new ProviderNodeOptions
            {
                Market = market.MarketUri(parse),
                Pricing = pricing,
                Runtime = parse.GetValue(runtime)!,
                Images = new SkeinImageResolver(SelfImage()),
                Provider = new ProviderOptions
                {
                    StateDirectory = folder,
                    Host = parse.GetValue(host)!,
                    Port = parse.GetValue(port),
                    PublicUri = parse.GetValue(publicUrl) is { } u ? new Uri(u) : null,
                    Attributes = (parse.GetValue(attributes) ?? []).Select(a => Pair(a, "--attribute")).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
                    Capacity = capacity,
                    WithdrawInterval = TimeSpan.FromSeconds(parse.GetValue(withdraw)),
                    PollInterval = TimeSpan.FromMilliseconds(parse.GetValue(poll)),
                },
            };
            using var loggers = CliLogging.Create();
            using var key = market.Unlock(parse);
            if (Network.BindWarning.Provider(options.Provider.Host) is { } warning)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(warning);
            }
            await using var node = await ProviderNode.StartAsync(options, key, loggers, ct);
            // Machine-readable, for scripts and tests: the endpoint and the address, one line each.
            await parse.InvocationConfiguration.Output.WriteLineAsync($"provider {key.Address}");
            await parse.InvocationConfiguration.Output.WriteLineAsync($"listening {node.Host.Uri}");
            await parse.InvocationConfiguration.Output.FlushAsync(ct);
            try
            {
                await node.Host.Loop.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl-C: the workloads keep running; the next start re-adopts them.
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>What the Skein image runs here: this very program's `run-from-env`.</summary>
    public static ResolvedImage SelfImage()
    {
        var launch = Network.NetworkDemo.SelfLaunch(["run-from-env"]);
        return launch.ArgumentList.Count > 1
            ? ResolvedImage.DotNet(launch.ArgumentList[0], "run-from-env")
            : new ResolvedImage([launch.FileName], ["run-from-env"]);
    }

    private static ulong Cpu(string text) =>
        SdlUnits.TryParseCpu(text, out var millis) && millis > 0 ? millis : throw new ArgumentException($"--cpu: '{text}' is not a CPU amount (cores, or millicores like 1500m)");

    private static ulong Size(string text, string option) =>
        SdlUnits.TryParseSize(text, out var bytes) && bytes > 0 ? bytes : throw new ArgumentException($"{option}: '{text}' is not a size (e.g. 16Gi, 500M)");

    private static KeyValuePair<string, string> Pair(string text, string option)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        return eq > 0 && eq < text.Length - 1 ? new(text[..eq], text[(eq + 1)..]) : throw new ArgumentException($"{option}: expected key=value, got '{text}'");
    }
}
