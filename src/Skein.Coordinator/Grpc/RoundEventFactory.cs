using Skein.Ledger;
using Skein.Protocol.V1;

namespace Skein.Coordinator.Grpc;

/// <summary>Builds the round announcement nodes see from what the ledger records.</summary>
public static class RoundEventFactory
{
    public static async Task<RoundEvent?> CurrentAsync(ILedger ledger, ulong taskId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        var task = await ledger.GetTaskAsync(taskId, cancellationToken);
        if (task is null)
        {
            return null;
        }
        var round = task.Completed ? task.SettledRounds : task.SettledRounds + 1;
        var info = await ledger.GetRoundAsync(taskId, round, cancellationToken);
        return info is null ? null : From(info, task.Completed);
    }

    public static RoundEvent From(RoundInfo r, bool completed)
    {
        ArgumentNullException.ThrowIfNull(r);
        var e = new RoundEvent
        {
            TaskId = r.TaskId,
            Round = r.Round,
            Phase = r.Phase.ToString().ToLowerInvariant(),
            ModelSha256 = Hex(r.ModelHash),
            NewModelSha256 = r.NewModelHash == Hash32.Zero ? "" : Hex(r.NewModelHash),
            TaskCompleted = completed,
        };
        e.PickedTrainers.AddRange(r.PickedTrainers.Select(a => a.ToString()));
        e.PickedValidators.AddRange(r.PickedValidators.Select(a => a.ToString()));
        e.UpdateSha256.AddRange(r.Updates.Select(u => Hex(u.UpdateHash)));
        e.UpdateTrainer.AddRange(r.Updates.Select(u => u.Trainer.ToString()));
        return e;
    }

    /// <summary>A ledger hash as the blob store names it: 64 lowercase hex digits, no prefix.</summary>
    public static string Hex(Hash32 h) => h.ToString()[2..];
}
