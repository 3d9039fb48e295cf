using System.Numerics.Tensors;
using System.Security.Cryptography;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Skein.Core;
using Skein.Learning.Data;
using Skein.Learning.Models;
using Skein.Learning.Tasks;
using Skein.Learning.Training;
using Skein.Learning.Validation;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Transactions;
using Skein.Protocol.V1;

namespace Skein.Node;

/// <summary>How a node behaves: honestly, or (for demos and tests) as one of the cheats the system must catch.</summary>
public enum NodeBehaviour
{
    Honest,

    /// <summary>A trainer that sends -4x its honest update.</summary>
    SignFlip,

    /// <summary>A validator that commits scores but never reveals them.</summary>
    NeverReveal,

    /// <summary>A trainer whose upload stops after its first chunk and hangs, like a dying link (for fault drills).</summary>
    StallUpload,

    /// <summary>A tournament trainer that submits another trainer's first submission of the window, perturbed by noise of 1% of its size.</summary>
    Copy,
}

/// <summary>One submission a tournament trainer makes each window: its own optimizer steps and learning rate.</summary>
public sealed record TournamentTry(int Steps, double LearningRate);

/// <summary>Options of a node process.</summary>
public sealed record NodeOptions
{
    public required Uri Coordinator { get; init; }

    /// <summary>
    /// Private data: train-*-ubyte files to train on, heldout-*-ubyte files to validate with (IDX, raw or gzip); for
    /// fine-tuning tasks, text in train/ and heldout/ subfolders (.txt files, or .jsonl with a "text" field).
    /// </summary>
    public required string DataDirectory { get; init; }

    /// <summary>Where the node keeps what it must not forget across restarts (its score commitments and salts).</summary>
    public required string StateDirectory { get; init; }

    public UInt128 TrainerStake { get; init; }

    public UInt128 ValidatorStake { get; init; }

    public NodeBehaviour Behaviour { get; init; } = NodeBehaviour.Honest;

    /// <summary>Reconnection attempts after the coordinator goes away, with exponential backoff.</summary>
    public int MaxReconnects { get; init; } = 30;

    /// <summary>With an https coordinator: its certificate, pinned (PEM or DER file).</summary>
    public string? TlsPin { get; init; }

    /// <summary>Told after each local training (task, round, wall time), for benchmarks and dashboards.</summary>
    public Action<ulong, uint, TimeSpan>? Trained { get; init; }

    /// <summary>Join only these tasks of the coordinator (null: all of them).</summary>
    public IReadOnlySet<ulong>? Tasks { get; init; }

    /// <summary>
    /// A light trainer for scale benchmarks: instead of training, it waits this long without using the CPU (as a node
    /// training on a machine of its own would) and sends a small seeded update; everything else (download, upload,
    /// signed submission) is real. Null: train for real.
    /// </summary>
    public TimeSpan? SimulatedTraining { get; init; }

    /// <summary>
    /// A tournament trainer's submissions per window, each with its own settings (at most the task's limit are sent);
    /// null: one, with the task's training settings.
    /// </summary>
    public IReadOnlyList<TournamentTry>? Tries { get; init; }

    /// <summary>Wraps the HTTP handler under each connection to the coordinator: the seam fault drills and tests lose requests and replies at.</summary>
    public Func<HttpMessageHandler, HttpMessageHandler>? WrapTransport { get; init; }
}

/// <summary>
/// The participant daemon: signs in, stakes and joins the coordinator's tasks, then follows their rounds —
/// trains when picked to train, scores with commit and reveal when picked to validate. Its data never leaves it:
/// only updates (deltas of the model) and signed scores do.
/// </summary>
public sealed partial class NodeDaemon(NodeOptions options, LedgerKey key, ILogger logger)
{
    // Held as tensors for the node's life, built straight from the files: no managed copy beside them, no copy per round.
    private readonly ClientData? _train = Load(options.DataDirectory, "train");
    private readonly ClientData? _heldout = Load(options.DataDirectory, "heldout");
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, FineTuningWorkbench> _workbenches = new();
    private byte[]? _trainText;
    private byte[]? _heldoutText;

    private bool Trains => _train is not null || _trainText is not null;

    private bool Validates => _heldout is not null || _heldoutText is not null;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.StateDirectory);
        _trainText = await LoadTextAsync(Path.Combine(options.DataDirectory, "train"), cancellationToken);
        _heldoutText = await LoadTextAsync(Path.Combine(options.DataDirectory, "heldout"), cancellationToken);
        try
        {
            await RunConnectedAsync(cancellationToken);
        }
        finally
        {
            foreach (var w in _workbenches.Values)
            {
                w.Dispose();
            }
            _workbenches.Clear();
        }
    }

    private async Task RunConnectedAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var connection = new CoordinatorConnection(options.Coordinator, key, options.TlsPin is null ? null : CertificatePin.Load(options.TlsPin), options.WrapTransport);
                await connection.SignInAsync(cancellationToken);
                var info = await connection.Client.GetInfoAsync(new InfoRequest(), cancellationToken: cancellationToken);
                await JoinAsync(connection, info, cancellationToken);
                // The budget is for consecutive failures: a node that got back in has a full one again, so that a
                // long-lived node survives any number of separate outages.
                attempt = 0;
                await Task.WhenAll(info.Tasks.Where(Wanted).Select(t => FollowAsync(connection, t, cancellationToken)));
                return;
            }
            catch (Exception ex) when (Transient(ex) && !cancellationToken.IsCancellationRequested && attempt < options.MaxReconnects)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(5_000, 100 * Math.Pow(2, Math.Min(attempt, 6))));
                LogReconnect(logger, ex is RpcException rpc ? rpc.Status.Detail : $"{ex.GetType().Name}: {ex.Message}", delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    /// <summary>
    /// A lost connection, however it shows: gRPC statuses, or (from a client stream's writes, found by the chaos
    /// bench) the transport's own exception when the connection dies in the middle of an upload.
    /// </summary>
    private static bool Transient(Exception ex) => ex switch
    {
        // Unauthenticated too: a restarted coordinator has forgotten every session, so sign in again.
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled or StatusCode.Unauthenticated,
        HttpRequestException or IOException => true,
        _ => false,
    };

    private async Task JoinAsync(CoordinatorConnection connection, InfoReply info, CancellationToken cancellationToken)
    {
        var account = await connection.AccountAsync(cancellationToken);
        if (Trains && account.TrainerStake < options.TrainerStake)
        {
            var amount = options.TrainerStake - account.TrainerStake;
            await connection.SendAsync((f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = amount }, cancellationToken);
        }
        if (Validates && account.ValidatorStake < options.ValidatorStake)
        {
            var amount = options.ValidatorStake - account.ValidatorStake;
            await connection.SendAsync((f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = amount }, cancellationToken);
        }
        var joined = 0;
        foreach (var task in info.Tasks.Where(Wanted))
        {
            joined++;
            if (Trains && !account.TrainerOf.Contains(task.TaskId))
            {
                await connection.SendAsync((f, n) => new JoinTask { From = f, Nonce = n, TaskId = task.TaskId, Role = Role.Trainer }, cancellationToken);
            }
            if (Validates && !account.ValidatorOf.Contains(task.TaskId))
            {
                await connection.SendAsync((f, n) => new JoinTask { From = f, Nonce = n, TaskId = task.TaskId, Role = Role.Validator }, cancellationToken);
            }
        }
        LogJoined(logger, key.Address, joined);
    }

    /// <summary>A task this node was told to follow and holds data for: text for fine-tuning tasks, images for the others.</summary>
    private bool Wanted(TaskSummary task)
    {
        if (options.Tasks is { } only && !only.Contains(task.TaskId))
        {
            return false;
        }
        var fineTuning = TaskSpec.Parse(task.SpecJson).IsFineTuning;
        return fineTuning ? _trainText is not null || _heldoutText is not null : _train is not null || _heldout is not null;
    }

    private async Task FollowAsync(CoordinatorConnection connection, TaskSummary task, CancellationToken cancellationToken)
    {
        var spec = TaskSpec.Parse(task.SpecJson);
        var kind = default(ModelKind);
        if (!spec.IsFineTuning && !ModelNames.TryParse(spec.Model, out kind))
        {
            throw new InvalidOperationException($"task {task.TaskId}: unknown model '{spec.Model}'");
        }
        using var watch = connection.Client.WatchRounds(new WatchRequest { TaskId = task.TaskId }, connection.Auth, cancellationToken: cancellationToken);
        // Update folders a killed process left behind: caches of rounds it will not score now.
        foreach (var stale in Directory.Exists(options.StateDirectory) ? Directory.GetDirectories(options.StateDirectory, $"task{task.TaskId}-round*-updates") : [])
        {
            Directory.Delete(stale, recursive: true);
        }
        UpdatePrefetch? prefetch = null;
        try
        {
            await foreach (var e in watch.ResponseStream.ReadAllAsync(cancellationToken))
            {
                var me = key.Address.ToString();
                // A picked validator fetches the round's updates while they come in, beside its own training if it
                // trains too; the commit phase then only scores.
                if (e.Phase == "training" && e.PickedValidators.Contains(me) && Validates && !Done(e, "commitment") && prefetch?.Round != e.Round)
                {
                    if (prefetch is not null)
                    {
                        await prefetch.DisposeAsync();
                    }
                    prefetch = new UpdatePrefetch(connection, e, UpdatesFolder(e), cancellationToken);
                }
                await OnRoundEventAsync(connection, e, kind, spec, prefetch?.Round == e.Round ? prefetch : null, cancellationToken);
                // Once its round has left training the prefetch has served (or missed) the commit: its updates go.
                if (prefetch is not null && (prefetch.Round != e.Round || e.Phase != "training"))
                {
                    await prefetch.DisposeAsync();
                    prefetch = null;
                }
                if (e.TaskCompleted)
                {
                    return;
                }
            }
        }
        finally
        {
            if (prefetch is not null)
            {
                await prefetch.DisposeAsync();
            }
        }
    }

    private async Task OnRoundEventAsync(CoordinatorConnection connection, RoundEvent e, ModelKind kind, TaskSpec spec, UpdatePrefetch? prefetch, CancellationToken cancellationToken)
    {
        var me = key.Address.ToString();
        switch (e.Phase)
        {
            case "training" when e.PickedTrainers.Contains(me) && Trains && !Done(e, "submitted") && spec.IsTournament:
                await StepAsync(e, "submitted", () => options.Behaviour == NodeBehaviour.Copy
                    ? CopyAsync(connection, e, spec, cancellationToken)
                    : EnterAsync(connection, e, spec, cancellationToken));
                break;
            case "training" when e.PickedTrainers.Contains(me) && Trains && !Done(e, "submitted"):
                await StepAsync(e, "submitted", () => TrainAsync(connection, e, kind, spec, cancellationToken));
                break;
            case "committing" when e.PickedValidators.Contains(me) && Validates && !Done(e, "committed"):
                await StepAsync(e, "committed", () => CommitAsync(connection, e, kind, spec, prefetch, cancellationToken));
                break;
            // On the saved commitment, not on the "committed" mark: a commit that reached the ledger while its reply
            // was lost must still be revealed, or the validator is slashed for a reveal it could have made.
            case "revealing" when Done(e, "commitment") && !Done(e, "revealed") && options.Behaviour != NodeBehaviour.NeverReveal:
                await StepAsync(e, "revealed", () => RevealAsync(connection, e, cancellationToken));
                break;
            // The copier remembers each window's model (the winner merged) to copy the winner in the next one.
            case "settled" when options.Behaviour == NodeBehaviour.Copy && spec.IsTournament && e.NewModelSha256.Length > 0:
                await File.WriteAllTextAsync(StatePath(e, "window-model"), e.NewModelSha256, cancellationToken);
                break;
        }
    }

    private async Task TrainAsync(CoordinatorConnection connection, RoundEvent e, ModelKind kind, TaskSpec spec, CancellationToken cancellationToken)
    {
        // The update is kept until the round is done with it: after a lost connection or a restart the node
        // resumes the upload (from the offset the coordinator reports) instead of training again.
        var saved = StatePath(e, "update").Replace(".json", ".safetensors", StringComparison.Ordinal);
        byte[] update;
        if (File.Exists(saved))
        {
            update = await File.ReadAllBytesAsync(saved, cancellationToken);
        }
        else
        {
            var globalBytes = await connection.DownloadAsync(e.ModelSha256, cancellationToken);
            if (spec.IsFineTuning)
            {
                var bench = await WorkbenchAsync(connection, e.TaskId, spec, cancellationToken);
                update = await OffThePool(() => FineTune(bench, globalBytes, e, cancellationToken), cancellationToken);
            }
            else if (options.SimulatedTraining is { } simulated)
            {
                update = await SimulateTrainingAsync(globalBytes, e, kind, simulated, cancellationToken);
            }
            else
            {
                update = await OffThePool(() => Train(globalBytes, e, kind, spec, cancellationToken), cancellationToken);
            }
            await File.WriteAllBytesAsync(saved + ".tmp", update, cancellationToken);
            File.Move(saved + ".tmp", saved, overwrite: true);
        }
        await SubmitFileAsync(connection, e, spec, update, cancellationToken);
        Mark(e, "submitted", null);
    }

    /// <summary>
    /// A tournament window: every try is fine-tuned from the window's model first (each kept on disk, so a restart
    /// resumes), then all are uploaded and submitted back to back, so that the window's quiet time does not cut one off.
    /// </summary>
    private async Task EnterAsync(CoordinatorConnection connection, RoundEvent e, TaskSpec spec, CancellationToken cancellationToken)
    {
        var tries = (options.Tries is { Count: > 0 } own ? own : [new TournamentTry(spec.Training.StepsOrDefault, spec.Training.LrAt(e.Round))])
            .Take((int)spec.Tournament!.SubmissionsPerTrainer).ToArray();
        var files = new string[tries.Length];
        byte[]? globalBytes = null;
        for (var k = 0; k < tries.Length; k++)
        {
            files[k] = StatePath(e, $"try{k}").Replace(".json", ".safetensors", StringComparison.Ordinal);
            if (File.Exists(files[k]))
            {
                continue;
            }
            globalBytes ??= await connection.DownloadAsync(e.ModelSha256, cancellationToken);
            var window = globalBytes;
            var bench = await WorkbenchAsync(connection, e.TaskId, spec, cancellationToken);
            var attempt = tries[k];
            var update = await OffThePool(() =>
            {
                var global = bench.Layout.FromSafeTensors(SafeTensors.Parse(window));
                var seed = DeterministicRandom.Derive(BitConverter.ToUInt64(SHA256.HashData(key.Address.ToBytes())), "node/tournament", (e.Round * 64L) + k).NextUInt64();
                var (delta, result) = bench.Train(global, _trainText, new Skein.Learning.Language.LanguageTrainingOptions(attempt.Steps, spec.Training.BatchSize, attempt.LearningRate), seed, cancellationToken);
                LogFineTuned(logger, e.TaskId, e.Round, result.Tokens, result.MeanLoss);
                options.Trained?.Invoke(e.TaskId, e.Round, result.Elapsed);
                return bench.Layout.ToSafeTensors(delta);
            }, cancellationToken);
            await File.WriteAllBytesAsync(files[k] + ".tmp", update, cancellationToken);
            File.Move(files[k] + ".tmp", files[k], overwrite: true);
        }
        for (var k = 0; k < files.Length; k++)
        {
            if (Done(e, $"submitted{k}"))
            {
                continue;
            }
            try
            {
                await SubmitFileAsync(connection, e, spec, await File.ReadAllBytesAsync(files[k], cancellationToken), cancellationToken);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists && ex.Status.Detail.StartsWith(nameof(LedgerError.AlreadySubmitted), StringComparison.Ordinal))
            {
                // An earlier try landed and only its reply was lost: this submission is done, the next ones are not.
                var step = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"submission {k}");
                LogAlreadyDone(logger, e.TaskId, e.Round, step);
            }
            Mark(e, $"submitted{k}", null);
        }
        Mark(e, "submitted", null);
    }

    /// <summary>
    /// The copier: submits as its own, with a little noise, the previous window's winner (the previous window's model
    /// minus the starting adapter) if it saw that window settle, else the first submission of another trainer in this one.
    /// </summary>
    private async Task CopyAsync(CoordinatorConnection connection, RoundEvent e, TaskSpec spec, CancellationToken cancellationToken)
    {
        var me = key.Address.ToString();
        var previous = Path.Combine(options.StateDirectory, $"task{e.TaskId}-round{e.Round - 1}-window-model.json");
        if (e.Round > 1 && File.Exists(previous))
        {
            var layout = TaskModels.Layout(spec);
            var winner = layout.FromSafeTensors(SafeTensors.Parse(await connection.DownloadAsync((await File.ReadAllTextAsync(previous, cancellationToken)).Trim(), cancellationToken)));
            var start = layout.FromSafeTensors(SafeTensors.Parse(await connection.DownloadAsync(e.ModelSha256, cancellationToken)));
            TensorPrimitives.Subtract(winner, start, winner);
            LogCopied(logger, e.TaskId, e.Round, $"the winner of window {e.Round - 1}");
            await SubmitFileAsync(connection, e, spec, layout.ToSafeTensors(Perturb(winner, e.Round)), cancellationToken);
            Mark(e, "submitted", null);
            return;
        }
        using var updates = connection.Client.WatchUpdates(new WatchUpdatesRequest { TaskId = e.TaskId, Round = e.Round }, connection.Auth, cancellationToken: cancellationToken);
        await foreach (var notice in updates.ResponseStream.ReadAllAsync(cancellationToken))
        {
            if (string.Equals(notice.Trainer, me, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var layout = TaskModels.Layout(spec);
            var stolen = layout.FromSafeTensors(SafeTensors.Parse(await connection.DownloadAsync(notice.Sha256, cancellationToken)));
            LogCopied(logger, e.TaskId, e.Round, notice.Trainer);
            await SubmitFileAsync(connection, e, spec, layout.ToSafeTensors(Perturb(stolen, e.Round)), cancellationToken);
            Mark(e, "submitted", null);
            return;
        }
    }

    /// <summary>Adds seeded uniform noise of 1% of the update's size (RMS over its non-zero entries), only where it is non-zero.</summary>
    private float[] Perturb(float[] stolen, uint round)
    {
        var rms = Math.Sqrt(TensorPrimitives.SumOfSquares(stolen) / Math.Max(1, stolen.Count(x => x != 0)));
        var random = DeterministicRandom.Derive(BitConverter.ToUInt64(SHA256.HashData(key.Address.ToBytes())), "node/copy", round);
        for (var i = 0; i < stolen.Length; i++)
        {
            // Only where the original moved: frozen parameters (LoRA's A) must stay unchanged or the upload is refused.
            var noise = (float)((random.NextDouble() - 0.5) * 0.02 * Math.Sqrt(3) * rms);
            stolen[i] += stolen[i] != 0 ? noise : 0;
        }
        return stolen;
    }

    /// <summary>Uploads an update and submits its signed commitment.</summary>
    private async Task SubmitFileAsync(CoordinatorConnection connection, RoundEvent e, TaskSpec spec, byte[] update, CancellationToken cancellationToken)
    {
        var hash = await connection.UploadAsync(e.TaskId, e.Round, update, cancellationToken, stallAfterChunks: options.Behaviour == NodeBehaviour.StallUpload ? 1 : null);
        await connection.SendAsync((f, n) => new SubmitUpdate
        {
            From = f,
            Nonce = n,
            TaskId = e.TaskId,
            Round = e.Round,
            UpdateHash = Hash32.Parse(hash),
            // Text is weighted by its bytes, as images are by their count.
            Samples = spec.IsFineTuning ? (ulong)_trainText!.Length : (ulong)_train!.Count,
        }, cancellationToken);
    }

    private byte[] Train(byte[] globalBytes, RoundEvent e, ModelKind kind, TaskSpec spec, CancellationToken cancellationToken)
    {
        var layout = ModelLayouts.For(kind);
        var global = layout.FromSafeTensors(SafeTensors.Parse(globalBytes));
        using var model = TorchModel.Create(kind);
        model.Load(global);
        var data = _train!;
        var seed = DeterministicRandom.Derive(BitConverter.ToUInt64(SHA256.HashData(key.Address.ToBytes())), "node/train", e.Round).NextUInt64();
        var result = LocalTrainer.Train(model, data, new TrainingOptions(spec.Training.Epochs, spec.Training.BatchSize, spec.Training.LrAt(e.Round)), seed, cancellationToken);
        var delta = model.ToFlat();
        TensorPrimitives.Subtract(delta, global, delta);
        if (options.Behaviour == NodeBehaviour.SignFlip)
        {
            TensorPrimitives.Multiply(delta, -4f, delta);
        }
        LogTrained(logger, e.TaskId, e.Round, result.Samples, result.MeanLoss);
        options.Trained?.Invoke(e.TaskId, e.Round, result.Elapsed);
        return layout.ToSafeTensors(delta);
    }

    private async Task<byte[]> SimulateTrainingAsync(byte[] globalBytes, RoundEvent e, ModelKind kind, TimeSpan duration, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var layout = ModelLayouts.For(kind);
        var global = layout.FromSafeTensors(SafeTensors.Parse(globalBytes));
        var random = DeterministicRandom.Derive(BitConverter.ToUInt64(SHA256.HashData(key.Address.ToBytes())), "node/simulated", e.Round);
        var delta = new float[global.Length];
        for (var i = 0; i < delta.Length; i++)
        {
            delta[i] = (float)((random.NextDouble() - 0.5) * 1e-3);
        }
        await Task.Delay(duration - clock.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero, cancellationToken);
        options.Trained?.Invoke(e.TaskId, e.Round, clock.Elapsed);
        return layout.ToSafeTensors(delta);
    }

    private byte[] FineTune(FineTuningWorkbench bench, byte[] globalBytes, RoundEvent e, CancellationToken cancellationToken)
    {
        var global = bench.Layout.FromSafeTensors(SafeTensors.Parse(globalBytes));
        var seed = DeterministicRandom.Derive(BitConverter.ToUInt64(SHA256.HashData(key.Address.ToBytes())), "node/fine-tune", e.Round).NextUInt64();
        var (delta, result) = bench.Train(global, _trainText, e.Round, seed, cancellationToken);
        if (options.Behaviour == NodeBehaviour.SignFlip)
        {
            TensorPrimitives.Multiply(delta, -4f, delta);
        }
        LogFineTuned(logger, e.TaskId, e.Round, result.Tokens, result.MeanLoss);
        options.Trained?.Invoke(e.TaskId, e.Round, result.Elapsed);
        return bench.Layout.ToSafeTensors(delta);
    }

    /// <summary>The task's frozen base with its adapter, downloaded once by the hash the task names (and checked against it).</summary>
    private async Task<FineTuningWorkbench> WorkbenchAsync(CoordinatorConnection connection, ulong taskId, TaskSpec spec, CancellationToken cancellationToken)
    {
        if (_workbenches.TryGetValue(taskId, out var bench))
        {
            return bench;
        }
        var cached = Path.Combine(options.StateDirectory, $"base-{spec.Model.Base}.safetensors");
        byte[] bytes;
        if (File.Exists(cached) && Hashing.Sha256Hex(bytes = await File.ReadAllBytesAsync(cached, cancellationToken)) == spec.Model.Base)
        {
            LogBaseCached(logger, spec.Model.Base!);
        }
        else
        {
            bytes = await connection.DownloadAsync(spec.Model.Base!, cancellationToken);
            await File.WriteAllBytesAsync(cached + ".tmp", bytes, cancellationToken);
            File.Move(cached + ".tmp", cached, overwrite: true);
        }
        bench = FineTuningWorkbench.Open(spec, bytes);
        if (!_workbenches.TryAdd(taskId, bench))
        {
            bench.Dispose();
            return _workbenches[taskId];
        }
        return bench;
    }

    private static async Task<byte[]?> LoadTextAsync(string folder, CancellationToken cancellationToken) =>
        Directory.Exists(folder) ? TaskModels.JoinText((await TextFolderReader.ReadAsync(folder, cancellationToken)).Select(d => d.Text)) : null;

    private async Task CommitAsync(CoordinatorConnection connection, RoundEvent e, ModelKind kind, TaskSpec spec, UpdatePrefetch? prefetch, CancellationToken cancellationToken)
    {
        // A commitment saved by an earlier try (whose transaction may or may not have landed) is sent again as it
        // was: the scores and salt must be the ones that will be revealed.
        if (Done(e, "commitment"))
        {
            var again = JsonSerializer.Deserialize<Commitment>(await File.ReadAllTextAsync(StatePath(e, "commitment"), cancellationToken))!;
            await SendCommitAsync(connection, e, again.Scores, Hash32.Parse(again.Salt), cancellationToken);
            return;
        }
        var layout = TaskModels.Layout(spec);
        float[] Parse(byte[] bytes) => layout.FromSafeTensors(SafeTensors.Parse(bytes));
        // Without a prefetch (a validator restarted mid-round), the same fetch into files, started now.
        await using var own = prefetch is null ? new UpdatePrefetch(connection, e, UpdatesFolder(e), cancellationToken, watch: false) : null;
        var fetcher = prefetch ?? own!;
        var global = Parse(await File.ReadAllBytesAsync(await fetcher.GetAsync(e.ModelSha256, cancellationToken), cancellationToken));
        // Every update on disk (most are already there if the prefetch ran; the downloads are independent, and the
        // commit phase waits on the slowest validator), then scored one at a time from its file.
        var files = await Task.WhenAll(e.UpdateSha256.Select(sha => fetcher.GetAsync(sha, cancellationToken)));
        var deltas = new UpdateFiles(files, Parse);
        ulong[] scores;
        if (spec.IsTournament)
        {
            var bench = await WorkbenchAsync(connection, e.TaskId, spec, cancellationToken);
            var trainers = e.UpdateTrainer.Count == e.UpdateSha256.Count ? e.UpdateTrainer.ToArray() : throw new InvalidOperationException($"task {e.TaskId} window {e.Round}: the coordinator does not say who submitted each update");
            var earlier = await EarlierSubmissionsAsync(connection, e, layout, cancellationToken);
            scores = UpdateScorer.ToPartsPerMillion(await OffThePool(() => TournamentScores(bench, global, deltas, trainers, earlier, spec.Tournament!.CopyThreshold, e, cancellationToken), cancellationToken));
        }
        else if (spec.IsFineTuning)
        {
            var bench = await WorkbenchAsync(connection, e.TaskId, spec, cancellationToken);
            scores = UpdateScorer.ToPartsPerMillion(await OffThePool(() => bench.Score(global, deltas, _heldoutText, cancellationToken), cancellationToken));
        }
        else
        {
            using var model = TorchModel.Create(kind);
            var heldout = _heldout!;
            scores = await OffThePool(() => UpdateScorer.Score(spec.Validation.Score, model, heldout, global, deltas, cancellationToken), cancellationToken);
        }
        var salt = LoginProof.NewChallenge();
        // The salt and scores are written before the commitment is sent: a restarted node can still reveal. They are
        // not the mark that the commit is done, which only the ledger's answer gives: a node cut off between the two
        // sends the same commitment again.
        Mark(e, "commitment", new Commitment([.. scores], salt.ToString()));
        await SendCommitAsync(connection, e, scores, salt, cancellationToken);
    }

    /// <summary>
    /// Every submission of the task's earlier windows, with its trainer (each window's list from the coordinator, each
    /// update checked against its hash on download), so that a copy of a past window's submission is caught too.
    /// Adapters are small (max_params); a task of W windows of N submissions holds W x N of them here.
    /// </summary>
    private static async Task<List<(string Trainer, float[] Update)>> EarlierSubmissionsAsync(CoordinatorConnection connection, RoundEvent e, ParameterLayout layout, CancellationToken cancellationToken)
    {
        var earlier = new List<(string, float[])>();
        for (uint w = 1; w < e.Round; w++)
        {
            using var notices = connection.Client.WatchUpdates(new WatchUpdatesRequest { TaskId = e.TaskId, Round = w }, connection.Auth, cancellationToken: cancellationToken);
            await foreach (var n in notices.ResponseStream.ReadAllAsync(cancellationToken))
            {
                try
                {
                    earlier.Add((n.Trainer, layout.FromSafeTensors(SafeTensors.Parse(await connection.DownloadAsync(n.Sha256, cancellationToken)))));
                }
                catch (Exception ex) when (ex is FormatException or InvalidDataException or ArgumentException)
                {
                    // An update that does not parse copies nothing.
                }
            }
        }
        return earlier;
    }

    /// <summary>
    /// Each submission's tournament score on this validator's held-out text. Copies score 0: an update at least as close as the
    /// threshold to an earlier submission of another trainer, in this window or an earlier one.
    /// </summary>
    private double[] TournamentScores(FineTuningWorkbench bench, float[] global, UpdateFiles deltas, string[] trainers, List<(string Trainer, float[] Update)> earlier,
        double threshold, RoundEvent e, CancellationToken cancellationToken)
    {
        // Adapters are small (max_params), so the window's updates are held together to compare them pairwise. One that
        // does not parse as the task's adapter (a coordinator that let it through) scores 0 and matches nothing.
        var all = new float[deltas.Count][];
        for (var i = 0; i < all.Length; i++)
        {
            try
            {
                all[i] = deltas[i];
            }
            catch (Exception ex) when (ex is FormatException or InvalidDataException or ArgumentException)
            {
                all[i] = [];
            }
        }
        // The earlier windows' submissions come first in ledger order; only this window's are judged.
        var past = earlier.Count;
        var copyOf = TournamentScoring.CopyOf([.. earlier.Select(x => x.Trainer), .. trainers], [.. earlier.Select(x => x.Update), .. all], threshold)[past..];
        var text = _heldoutText.AsSpan(0, Math.Min(_heldoutText!.Length, BpcScore.MaxHeldOutBytes));
        var before = bench.Bpc(global, text, cancellationToken).BitsPerByte;
        var scores = new double[all.Length];
        var candidate = new float[global.Length];
        for (var i = 0; i < all.Length; i++)
        {
            if (copyOf[i] >= 0)
            {
                var (original, owner) = copyOf[i] < past ? ($"of an earlier window", earlier[copyOf[i]].Trainer) : ($"{copyOf[i] - past}", trainers[copyOf[i] - past]);
                LogCopyFound(logger, e.TaskId, e.Round, i, trainers[i], original, owner);
                continue;
            }
            if (all[i].Length != global.Length)
            {
                continue;
            }
            TensorPrimitives.Add(global, all[i], candidate);
            scores[i] = TournamentScoring.Score(before, bench.Bpc(candidate, text, cancellationToken).BitsPerByte);
        }
        return scores;
    }

    private async Task SendCommitAsync(CoordinatorConnection connection, RoundEvent e, ulong[] scores, Hash32 salt, CancellationToken cancellationToken)
    {
        var commitment = SignedTransaction.ScoreCommitment(e.TaskId, e.Round, key.Address, scores, salt);
        await connection.SendAsync((f, n) => new CommitScores { From = f, Nonce = n, TaskId = e.TaskId, Round = e.Round, Commitment = commitment }, cancellationToken);
        Mark(e, "committed", null);
        LogCommitted(logger, e.TaskId, e.Round, scores.Length);
    }

    /// <summary>
    /// Runs one step of a round and takes the ledger's refusals as outcomes, not faults. "Already submitted" means an
    /// earlier try landed and only its reply was lost with the connection: the step is done. "Wrong phase", "round
    /// not open" or "nothing committed to reveal" mean the round went on without this node while it was down or cut
    /// off: the step is over for this round. Either way the node goes on with the next round instead of exiting.
    /// </summary>
    private async Task StepAsync(RoundEvent e, string step, Func<Task> run)
    {
        try
        {
            await run();
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists && ex.Status.Detail.StartsWith(nameof(LedgerError.AlreadySubmitted), StringComparison.Ordinal))
        {
            Mark(e, step, null);
            LogAlreadyDone(logger, e.TaskId, e.Round, step);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition
            || (ex.StatusCode == StatusCode.InvalidArgument && ex.Status.Detail.StartsWith(nameof(LedgerError.NotCommitted), StringComparison.Ordinal)))
        {
            Mark(e, step, null);
            LogTooLate(logger, e.TaskId, e.Round, step, ex.Status.Detail);
        }
    }

    private async Task RevealAsync(CoordinatorConnection connection, RoundEvent e, CancellationToken cancellationToken)
    {
        var saved = JsonSerializer.Deserialize<Commitment>(await File.ReadAllTextAsync(StatePath(e, "commitment"), cancellationToken))!;
        await connection.SendAsync((f, n) => new RevealScores { From = f, Nonce = n, TaskId = e.TaskId, Round = e.Round, Scores = saved.Scores, Salt = Hash32.Parse(saved.Salt) }, cancellationToken);
        Mark(e, "revealed", null);
    }

    /// <summary>
    /// Runs seconds of CPU-bound training or scoring on a thread of its own, so that the pool threads stay free for
    /// gRPC, which matters when many nodes share one process (tests, <c>skein bench round</c>).
    /// </summary>
    private static Task<T> OffThePool<T>(Func<T> work, CancellationToken cancellationToken) =>
        ComputePriority.RunLoweredAsync(work, cancellationToken);

    private bool Done(RoundEvent e, string step) => File.Exists(StatePath(e, step));

    private void Mark(RoundEvent e, string step, Commitment? commitment)
    {
        var path = StatePath(e, step);
        var temp = path + ".tmp";
        File.WriteAllText(temp, commitment is null ? "{}" : JsonSerializer.Serialize(commitment));
        File.Move(temp, path, overwrite: true);
    }

    private string UpdatesFolder(RoundEvent e) => Path.Combine(options.StateDirectory, $"task{e.TaskId}-round{e.Round}-updates");

    private string StatePath(RoundEvent e, string step) => Path.Combine(options.StateDirectory, $"task{e.TaskId}-round{e.Round}-{step}.json");

    private static ClientData? Load(string folder, string prefix)
    {
        var images = Path.Combine(folder, $"{prefix}-images-idx3-ubyte");
        var labels = Path.Combine(folder, $"{prefix}-labels-idx1-ubyte");
        return File.Exists(images) && File.Exists(labels) ? ClientData.FromIdx(IdxFile.Read(images), IdxFile.Read(labels), prefix) : null;
    }

    /// <summary>What a validator must keep between commit and reveal.</summary>
    private sealed record Commitment(ulong[] Scores, string Salt);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Address}: staked and joined {Tasks} task(s)")]
    private static partial void LogJoined(ILogger logger, Address address, int tasks);

    [LoggerMessage(Level = LogLevel.Information, Message = "task {Task} round {Round}: trained on {Samples} samples, loss {Loss:0.0000}")]
    private static partial void LogTrained(ILogger logger, ulong task, uint round, long samples, double loss);

    [LoggerMessage(Level = LogLevel.Information, Message = "task {Task} round {Round}: fine-tuned on {Tokens} bytes, loss {Loss:0.0000}")]
    private static partial void LogFineTuned(ILogger logger, ulong task, uint round, long tokens, double loss);

    [LoggerMessage(Level = LogLevel.Warning, Message = "task {Task} window {Round}: copied the submission of {Trainer}")]
    private static partial void LogCopied(ILogger logger, ulong task, uint round, string trainer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "task {Task} window {Round}: submission {Index} of {Trainer} copies submission {Original} of {Owner}; scored 0")]
    private static partial void LogCopyFound(ILogger logger, ulong task, uint round, int index, string trainer, string original, string owner);

    [LoggerMessage(Level = LogLevel.Information, Message = "base model {Hash}: from the local cache")]
    private static partial void LogBaseCached(ILogger logger, string hash);

    [LoggerMessage(Level = LogLevel.Information, Message = "task {Task} round {Round}: {Count} scores committed")]
    private static partial void LogCommitted(ILogger logger, ulong task, uint round, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "task {Task} round {Round}: {Step} already on the ledger (the reply to an earlier try was lost)")]
    private static partial void LogAlreadyDone(ILogger logger, ulong task, uint round, string step);

    [LoggerMessage(Level = LogLevel.Warning, Message = "task {Task} round {Round}: too late to be {Step}; the round went on without this node ({Reason})")]
    private static partial void LogTooLate(ILogger logger, ulong task, uint round, string step, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "coordinator unavailable ({Reason}); reconnecting in {Delay} ms")]
    private static partial void LogReconnect(ILogger logger, string reason, double delay);
}
