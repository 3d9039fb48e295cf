using Skein.Ledger.Governance;

namespace Skein.Ledger.State;

/// <summary>Governance's part of the state root: the governed parameters in force, the treasury, proposals with their snapshots and votes, and tasks' approvals and releases.</summary>
public static partial class StateHasher
{
    /// <summary>Whether anything governance owns differs from a chain that never used it (whose roots stay what they were).</summary>
    private static bool HasGovernance(LedgerState state) =>
        state.Proposals.Count > 0 || state.Treasury > 0 || state.Params != state.GenesisParams
        || state.Tasks.Values.Any(t => t.NeedsApproval || t.Releases.Count > 0);

    private static void WriteGovernance(Writer w, LedgerState state)
    {
        w.Text("governance-v1");
        foreach (var p in GovernedParameters.All)
        {
            if (GovernedParameters.IsLiveness(p) && state.Params.Liveness is null)
            {
                // Chains that never set the liveness rules keep the roots they had before those rules existed.
                continue;
            }
            w.Text(p.Name);
            w.U128(p.Read(state.Params));
        }
        w.U128(state.Treasury);
        w.U64(state.NextProposalId);
        w.U64((ulong)state.Proposals.Count);
        foreach (var p in state.Proposals.Values)
        {
            w.U64(p.Id);
            w.U64((byte)p.Kind);
            w.Address(p.Proposer);
            w.U128(p.Deposit);
            w.U64(p.StartHeight);
            w.U64(p.EndHeight);
            w.Text(p.Parameter);
            w.U128(p.Value);
            w.U64(p.TaskId);
            w.Hash(p.ModelHash);
            w.Text(p.Name);
            w.Text(p.License);
            w.Address(p.Recipient);
            w.U128(p.Amount);
            w.U64((ulong)p.Snapshot.Own.Count);
            foreach (var (address, amount) in p.Snapshot.Own.OrderBy(o => o.Key))
            {
                w.Address(address);
                w.U128(amount);
            }
            w.U64((ulong)p.Snapshot.Delegations.Count);
            foreach (var ((delegator, operatorAddress), amount) in p.Snapshot.Delegations.OrderBy(d => d.Key))
            {
                w.Address(delegator);
                w.Address(operatorAddress);
                w.U128(amount);
            }
            w.U64((ulong)p.Votes.Count);
            foreach (var (voter, option) in p.Votes)
            {
                w.Address(voter);
                w.U64((byte)option);
            }
            w.U64((byte)p.Status);
            w.U64(p.DecidedHeight);
        }
        foreach (var t in state.Tasks.Values.Where(t => t.NeedsApproval || t.Releases.Count > 0))
        {
            w.U64(t.Id);
            w.Bool(t.NeedsApproval);
            w.Bool(t.Approved);
            w.Bool(t.Refused);
            w.U128(t.RewardPool);
            w.U64((ulong)t.Releases.Count);
            foreach (var r in t.Releases)
            {
                w.Hash(r.ModelHash);
                w.Text(r.Name);
                w.Text(r.License);
                w.U64(r.ProposalId);
                w.U64(r.Height);
            }
        }
    }
}
