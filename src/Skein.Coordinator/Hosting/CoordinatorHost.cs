using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Skein.Coordinator.Api;
using Skein.Coordinator.Blobs;
using Skein.Coordinator.Grpc;
using Skein.Coordinator.Rounds;
using Skein.Coordinator.Sessions;
using Skein.Coordinator.State;
using Skein.Core;
using Skein.Learning.Registry;
using Skein.Learning.Tasks;
using Skein.Learning.Models;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Transactions;
using Skein.Market.Api;

namespace Skein.Coordinator.Hosting;

/// <summary>
/// A running coordinator: Kestrel (HTTP/2, gRPC) bound to the configured address, the ledger, the blob store and
/// one round engine per hosted task. Everything it decides is on disk (ledger, index, blobs), so a new host on
/// the same folder carries on where a killed one stopped.
/// </summary>
public sealed partial class CoordinatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CoordinatorContext _context;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _engines = [];
    private BlockProducer? _blocks;
    private ChainLock? _chainLock;
    private Skein.Ledger.Evm.MarketKeeper? _keeper;
    private Task? _evaluator;

    private CoordinatorHost(WebApplication app, CoordinatorContext context, ILogger logger, Uri uri, Uri apiUri)
    {
        _app = app;
        _context = context;
        _logger = logger;
        Uri = uri;
        ApiUri = apiUri;
    }

    /// <summary>Where nodes connect (gRPC, HTTP/2).</summary>
    public Uri Uri { get; }

    /// <summary>The JSON HTTP API (HTTP/1.1; it is also served on <see cref="Uri"/> to HTTP/2 clients).</summary>
    public Uri ApiUri { get; }

    public CoordinatorContext Context => _context;

    /// <summary>Cancelled when the coordinator stops: background work of its own (engines, evaluator) ends with it.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>The running engines; each completes when its task does.</summary>
    public IReadOnlyList<Task> Engines => _engines;

    public static async Task<CoordinatorHost> StartAsync(CoordinatorOptions options, LedgerKey key, Genesis? genesis, ILoggerFactory loggers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(loggers);
        Directory.CreateDirectory(options.DataDirectory);
        var chainFile = options.LedgerFile ?? Path.Combine(options.DataDirectory, "ledger.db");
        // The embedded chain has one writer: this coordinator, for as long as it runs.
        var chainLock = options.Evm is null ? ChainLock.Acquire(chainFile) : null;
        try
        {
            return await StartLockedAsync(options, key, genesis, loggers, chainFile, chainLock, cancellationToken);
        }
        catch
        {
            chainLock?.Dispose();
            throw;
        }
    }

    private static async Task<CoordinatorHost> StartLockedAsync(CoordinatorOptions options, LedgerKey key, Genesis? genesis, ILoggerFactory loggers, string chainFile, ChainLock? chainLock,
        CancellationToken cancellationToken)
    {
        var (ledger, incentives) = options.Evm is { } evm
            ? await EvmLedgerSetup.OpenAsync(options.DataDirectory, evm, key, genesis, loggers.CreateLogger("skein.ledger"), cancellationToken)
            : await OpenEmbeddedAsync(chainFile, genesis, cancellationToken);
        var blobs = new BlobStore(new BlobStoreOptions(Path.Combine(options.DataDirectory, "blobs"), options.MaxUpdateBytes * 2));
        var index = new CoordinatorIndex(Path.Combine(options.DataDirectory, "coordinator.db"));
        var context = new CoordinatorContext(options, ledger, incentives, blobs, index, new SessionStore(ledger.ChainId, TimeProvider.System), key);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(context);
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = options.Limits.MaxGrpcMessageBytes;
            o.EnableDetailedErrors = true;
        });
        // Update uploads stream past the JSON body limit; their own limit is the task's update size.
        var limits = options.Limits with { StreamingPathPrefix = UploadEndpoint.Path };
        limits.AddTo(builder.Services);
        builder.WebHost.ConfigureKestrel(k =>
        {
            limits.ApplyTo(k);
            // Updates are megabytes: HTTP/2's default windows (1 MB per connection, 768 KB per stream) would stall
            // an upload on every round trip even on loopback.
            k.Limits.Http2.InitialConnectionWindowSize = 32 << 20;
            k.Limits.Http2.InitialStreamWindowSize = 16 << 20;
            k.Limits.Http2.MaxFrameSize = 1 << 20;
            k.Listen(IPAddress.Parse(options.Host), options.Port, listen =>
            {
                listen.Protocols = options.CertificatePath is null ? HttpProtocols.Http2 : HttpProtocols.Http1AndHttp2;
                if (options.CertificatePath is not null)
                {
                    listen.UseHttps(options.CertificatePath, options.CertificatePassword);
                }
            });
            k.Listen(IPAddress.Parse(options.Host), options.ApiPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                if (options.CertificatePath is not null)
                {
                    listen.UseHttps(options.CertificatePath, options.CertificatePassword);
                }
            });
        });
        var app = builder.Build();
        limits.UseLimits(app);
        app.MapGrpcService<CoordinatorService>();
        app.MapUploads();
        app.MapSkeinApi();
        // The compute market lives on the same ledger: tokens staked for tasks and paid for leases are one currency.
        var embedded = ledger as EmbeddedLedger;
        app.MapMarketApi(ledger);
        await app.StartAsync(cancellationToken);

        // Kestrel reports its addresses in the order the endpoints were configured.
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a.Replace("[::]", "127.0.0.1", StringComparison.Ordinal))).ToArray();
        var host = new CoordinatorHost(app, context, loggers.CreateLogger("skein.coordinator"), addresses[0], addresses[1])
        {
            // Leases are paid per block of ledger time, so the chain must move on even when nobody transacts; an EVM
            // chain makes its own blocks, and a keeper closes what ran dry there as the embedded ledger's blocks do.
            _blocks = embedded is null ? null : BlockProducer.Start(embedded),
            _chainLock = chainLock,
            _keeper = ledger is Skein.Ledger.Evm.EvmLedger chain && chain.Relayer is not null ? Skein.Ledger.Evm.MarketKeeper.Start(chain) : null,
        };
        foreach (var hosted in index.Tasks())
        {
            host.StartEngine(hosted);
        }
        if (options.EvaluationData is { } evalFolder)
        {
            var evaluator = new ModelEvaluator(context, ModelEvaluator.Load(evalFolder), loggers.CreateLogger("skein.evaluator"));
            // Not an engine: the evaluator never completes on its own, and --exit-when-done waits for the engines.
            host._evaluator = Task.Run(() => evaluator.RunAsync(host._stopping.Token), CancellationToken.None);
        }
        return host;
    }

    private static async Task<(ILedger, Skein.Ledger.Incentives.IncentiveParams)> OpenEmbeddedAsync(string file, Genesis? genesis, CancellationToken cancellationToken)
    {
        var ledger = await EmbeddedLedger.OpenAsync(file, genesis, cancellationToken: cancellationToken);
        return (ledger, ledger.Params.Incentives);
    }

    /// <summary>Creates a task on the ledger (escrowing its pool from the coordinator's balance), stores its initial model and starts its engine.</summary>
    public async Task<ulong> HostTaskAsync(string specJson, ulong seed, CancellationToken cancellationToken = default)
    {
        var spec = TaskSpec.Parse(specJson, "task");
        RoundAggregation.CheckVerifiable(spec);
        if (TaskModels.CheckLimits(spec) is { } limit)
        {
            throw new FormatException($"task: {limit}");
        }
        if (spec.IsFineTuning)
        {
            await PublishBaseAsync(spec, cancellationToken);
        }
        var layout = TaskModels.Layout(spec);
        var initial = await _context.Blobs.PutAsync(layout.ToSafeTensors(TaskModels.InitialParameters(spec, seed)), cancellationToken);
        var ledger = _context.Ledger;
        var key = _context.Key;
        var nonce = await ledger.GetNonceAsync(key.Address, cancellationToken);
        var create = TaskCreation.For(spec, key.Address, nonce);
        await ledger.SubmitAsync(key.SignTransaction(create, ledger.ChainId) with { ChainId = ledger.ChainId }, cancellationToken);
        var taskId = (await ledger.ListTasksAsync(cancellationToken)).Where(t => t.Creator == key.Address).Max(t => t.Id);
        var hosted = new HostedTask((long)taskId, specJson, initial);
        _context.Index.AddTask(hosted);
        LogHosted(_logger, taskId, spec.Name);
        return taskId;
    }

    /// <summary>
    /// Takes over a task its creator handed to this coordinator's key (skein task handover): checks the spec against
    /// the hash on the ledger, mirrors every blob the ledger names for the task (each round's model, the model it
    /// settled on, every update) from the peers, and starts its engine, which resumes the round where the ledger is.
    /// </summary>
    /// <returns>What was mirrored, and the hashes no peer had (a round that accepted a lost update cannot be settled by anyone).</returns>
    public async Task<AdoptionReport> AdoptTaskAsync(ulong taskId, string specJson, CancellationToken cancellationToken = default)
    {
        var spec = TaskSpec.Parse(specJson, "spec");
        var ledger = _context.Ledger;
        var task = await ledger.GetTaskAsync(taskId, cancellationToken) ?? throw new LedgerException(LedgerError.UnknownTask, $"task: no task {taskId} on this ledger");
        if (task.Coordinator != _context.Key.Address)
        {
            throw new LedgerException(LedgerError.NotCoordinator,
                $"task: task {taskId} is coordinated by {task.Coordinator}, not by this coordinator's key {_context.Key.Address}; its creator {task.Creator} must hand it over first (skein task handover)");
        }
        if (!task.Live)
        {
            throw new LedgerException(task.Cancelled ? LedgerError.TaskCancelled : LedgerError.TaskCompleted, $"task: task {taskId} has {(task.Cancelled ? "been cancelled" : "completed")}; there is nothing to take over");
        }
        if (Hash32.Parse(spec.Sha256()) != task.SpecHash)
        {
            throw new FormatException($"spec: hashes to {spec.Sha256()}, but task {taskId} was created with spec {task.SpecHash}");
        }
        if (_context.Index.Task(taskId) is not null)
        {
            throw new ArgumentException($"task: task {taskId} is hosted here already");
        }
        var wanted = new List<Hash32>();
        if (spec.IsFineTuning)
        {
            wanted.Add(Hash32.Parse(spec.Model.Base!));
        }
        foreach (var round in await ledger.GetRoundsAsync(taskId, 1, task.Rounds, cancellationToken))
        {
            wanted.Add(round.ModelHash);
            if (round.Phase == RoundPhase.Settled)
            {
                wanted.Add(round.NewModelHash);
            }
            wanted.AddRange(round.Updates.Select(u => u.UpdateHash));
        }
        int had = 0, fetched = 0;
        var missing = new List<Hash32>();
        foreach (var hash in wanted.Distinct())
        {
            var hex = RoundEventFactory.Hex(hash);
            if (_context.Blobs.Exists(hex))
            {
                had++;
                continue;
            }
            try
            {
                await _context.ReadBlobAsync(hex, cancellationToken);
                fetched++;
            }
            catch (FileNotFoundException)
            {
                missing.Add(hash);
            }
        }
        // The initial model is on the ledger once round 1 opened; before that, this coordinator makes its own.
        var first = await ledger.GetRoundAsync(taskId, 1, cancellationToken);
        var initial = first is not null
            ? RoundEventFactory.Hex(first.ModelHash)
            : await _context.Blobs.PutAsync(TaskModels.Layout(spec).ToSafeTensors(TaskModels.InitialParameters(spec, 1)), cancellationToken);
        var hosted = new HostedTask((long)taskId, specJson, initial);
        _context.Index.AddTask(hosted);
        LogAdopted(_logger, taskId, task.SettledRounds, fetched, missing.Count);
        StartEngine(hosted);
        return new AdoptionReport(taskId, task.SettledRounds, had, fetched, missing);
    }

    /// <summary>
    /// Puts a fine-tuning task's base model into the blob store, from the model registry, so that every node can
    /// download it by the hash the ledger records; refused, naming model.base, when the registry lacks it or it is
    /// not the task's architecture.
    /// </summary>
    private async Task PublishBaseAsync(TaskSpec spec, CancellationToken cancellationToken)
    {
        var hash = spec.Model.Base!;
        if (_context.Blobs.Exists(hash))
        {
            return;
        }
        var folder = _context.Options.ModelRegistry;
        if (folder is null || !Directory.Exists(folder))
        {
            throw new FormatException($"task: model.base: {hash} is not in this coordinator's blob store, and it has no model registry to take it from (--model-registry)");
        }
        using var registry = new ModelRegistry(folder);
        if (registry.Get(hash) is not { } entry)
        {
            throw new FormatException($"task: model.base: {hash} is not in the model registry at {folder} (see skein model list)");
        }
        if (entry.Kind == Skein.Learning.Registry.ModelKind.Adapter || entry.Config != TaskModels.Language(spec))
        {
            throw new FormatException($"task: model.base: {hash} is a {ModelRegistryNames.Kind(entry.Kind)} {entry.Architecture} model; the task needs a full {spec.Model.Name} model");
        }
        var file = registry.ReadFile(hash);
        if (!file.Ok)
        {
            throw new FormatException($"task: model.base: {file.Error}");
        }
        await _context.Blobs.PutAsync(file.Bytes, cancellationToken);
    }

    /// <summary>Starts the round engine of a hosted task (nodes usually join first, so this is separate from hosting).</summary>
    public void StartEngine(ulong taskId) => StartEngine(_context.Index.Task(taskId) ?? throw new ArgumentException($"task {taskId} is not hosted here"));

    private void StartEngine(HostedTask hosted)
    {
        var engine = new RoundEngine(_context, hosted, _logger);
        _engines.Add(Task.Run(async () =>
        {
            try
            {
                await engine.RunAsync(_stopping.Token);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                // shutting down
            }
            catch (Exception ex)
            {
                LogEngineFailed(_logger, ex, (ulong)hosted.TaskId);
                throw;
            }
        }));
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_engines).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or InvalidOperationException or LedgerException)
        {
            // engines report their own failures
        }
        if (_evaluator is not null)
        {
            await _evaluator.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (_blocks is not null)
        {
            await _blocks.DisposeAsync();
        }
        if (_keeper is not null)
        {
            await _keeper.DisposeAsync();
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _context.DisposeAsync();
        _chainLock?.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "took task {Task} over after {Rounds} settled rounds: {Fetched} blobs mirrored from peers, {Missing} found nowhere")]
    private static partial void LogAdopted(ILogger logger, ulong task, uint rounds, int fetched, int missing);

    [LoggerMessage(Level = LogLevel.Information, Message = "hosting task {Task} ({Name})")]
    private static partial void LogHosted(ILogger logger, ulong task, string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "round engine of task {Task} failed")]
    private static partial void LogEngineFailed(ILogger logger, Exception exception, ulong task);
}

/// <summary>What taking a task over found: blobs already here, mirrored from peers, and missing everywhere.</summary>
public sealed record AdoptionReport(ulong TaskId, uint SettledRounds, int AlreadyHere, int Fetched, IReadOnlyList<Hash32> Missing);
