using Skein.Coordinator.Api;
using Skein.Core;
using Skein.Learning.Language;
using Skein.Learning.Registry;
using Skein.Learning.Tasks;

namespace Skein.Cli;

/// <summary>A tournament window's winner in the model registry: its adapter over the base, and the base with it merged in.</summary>
public sealed record RegisteredWinner(ulong Task, uint Window, string Trainer, string Submission, string Adapter, string MergedModel, IReadOnlyList<TextLineageEntry> Lineage);

/// <summary>
/// Takes a settled tournament window's winner into the local model registry, as the task's model: verifies the window
/// first (every consensus, payout and the window's model), then registers the base if it is missing, the window's
/// adapter (the winner's update merged into the starting adapter) with the base as parent, and the base with that
/// adapter merged in, each with the winning trainer as contributor.
/// </summary>
internal static class TournamentWinner
{
    public static async Task<(RegisteredWinner? Winner, string? Error)> RegisterAsync(CoordinatorApiClient api, ulong taskId, uint window, string registryFolder,
        Func<string, string> name, CancellationToken ct)
    {
        var task = await api.GetTaskAsync(taskId, ct);
        if (task.Tournament is null)
        {
            return (null, $"--task: task {taskId} is not a tournament");
        }
        if (task.Spec is null)
        {
            return (null, $"--task: the coordinator does not publish task {taskId}'s spec");
        }
        if (window < 1 || window > task.SettledRounds)
        {
            return (null, $"--window: task {taskId} has settled windows 1 to {task.SettledRounds}, not {window}");
        }
        var check = await RoundVerifier.VerifyAsync(api, taskId, window, ct);
        if (!check.Ok)
        {
            return (null, $"window {window} of task {taskId} does not verify: {check.Reason}");
        }
        var round = await api.GetRoundAsync(taskId, window, ct);
        var winner = round.Updates.Select((u, i) => (u, i)).Where(x => x.u.Accepted == true).OrderByDescending(x => x.u.ConsensusPpm).ThenBy(x => x.i).Select(x => x.i).DefaultIfEmpty(-1).First();
        if (winner < 0)
        {
            return (null, $"window {window} of task {taskId}: no submission ranked, so it has no winner");
        }
        var spec = TaskSpec.Parse(task.Spec, "spec");
        var baseBytes = await api.GetBlobAsync(spec.Model.Base!, ct);
        var adapterBytes = await api.GetBlobAsync(round.NewModelHash![2..], ct);
        var trainer = round.Updates[winner].Trainer;
        return (await Task.Run(() => Register(registryFolder, spec, taskId, window, baseBytes, adapterBytes, $"{name(trainer)} {trainer}".Trim(), round.Updates[winner].Hash), ct), null);
    }

    /// <summary>The registry part, from the bytes: the base if missing, the adapter over it, the merged model over the adapter.</summary>
    internal static RegisteredWinner Register(string registryFolder, TaskSpec spec, ulong taskId, uint window, byte[] baseBytes, byte[] adapterBytes, string contributor, string submission)
    {
        using var registry = new ModelRegistry(registryFolder);
        var config = TaskModels.Language(spec);
        var architecture = ModelRegistry.ArchitectureName(config);
        string Put(byte[] bytes, ModelRegistration registration)
        {
            var put = registry.Put(bytes, registration);
            return put.Ok ? put.Entry!.Hash : throw new InvalidOperationException($"model registry: {put.Error}");
        }
        var baseHash = registry.Get(spec.Model.Base!) is null
            ? Put(baseBytes, new ModelRegistration(architecture, config, ModelKind.Base) { Description = $"the base of task {taskId} ({spec.Name}), from its coordinator" })
            : spec.Model.Base!;
        string[] contributors = [contributor];
        var adapter = Put(adapterBytes, new ModelRegistration(architecture, config, ModelKind.Adapter)
        {
            Parent = baseHash,
            TaskId = taskId,
            Round = window,
            Contributors = contributors,
            Description = $"task {taskId} ({spec.Name}) window {window}: the winning LoRA adapter (submission {submission[..12]})",
        });
        var merged = LoraAggregation.Merge(config, TaskModels.Lora(spec), config.Layout().FromSafeTensors(SafeTensors.Parse(baseBytes)),
            TaskModels.Layout(spec).FromSafeTensors(SafeTensors.Parse(adapterBytes)));
        var model = Put(config.Layout().ToSafeTensors(merged), new ModelRegistration(architecture, config, ModelKind.Merged)
        {
            Parent = adapter,
            TaskId = taskId,
            Round = window,
            Contributors = contributors,
            Description = $"task {taskId} ({spec.Name}) window {window}: the base with the winning adapter merged in",
        });
        var lineage = registry.Lineage(model).Select(e => new TextLineageEntry(e.Hash, ModelRegistryNames.Kind(e.Kind), e.Round, e.Contributors)).ToArray();
        return new RegisteredWinner(taskId, window, contributor, submission, adapter, model, lineage);
    }
}
