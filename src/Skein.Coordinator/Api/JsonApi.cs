using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Skein.Core;
using Skein.Ledger;
using Skein.Ledger.State;

using Skein.Coordinator.Grpc;

namespace Skein.Coordinator.Api;

/// <summary>
/// The read-only JSON HTTP API of a coordinator, for the CLI, dashboards and verifiers: status, tasks, rounds, the
/// leaderboard, and blobs by hash (models and updates, so that anyone can recompute a round).
/// </summary>
public static class JsonApi
{
    /// <summary>Parameters, treasury, proposals with their counts, and releases; an empty, unsupported answer from a backend without governance.</summary>
    public static Task<ApiGovernance> GovernanceAsync(ILedger ledger, CancellationToken ct) => GovernanceAsync(ledger, null, ct);

    /// <summary>As <see cref="GovernanceAsync(ILedger, CancellationToken)"/>, each proposal with <paramref name="voter"/>'s power and vote when given.</summary>
    public static async Task<ApiGovernance> GovernanceAsync(ILedger ledger, Address? voter, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        Skein.Ledger.Governance.GovernanceInfo gov;
        try
        {
            gov = await ledger.GetGovernanceAsync(ct);
        }
        catch (NotSupportedException)
        {
            return new ApiGovernance(false, [], "0", [], []);
        }
        UInt128 Param(string name) => gov.Parameters.First(p => p.Name == name).Value;
        var rules = Skein.Ledger.Governance.GovernanceParams.Default with
        {
            QuorumBps = (uint)Param("governance.quorum_bps"),
            ThresholdBps = (uint)Param("governance.threshold_bps"),
            VetoBps = (uint)Param("governance.veto_bps"),
        };
        var parameters = gov.Parameters.Select(p =>
        {
            var d = Skein.Ledger.Governance.GovernedParameters.Find(p.Name)!;
            return new ApiGovernedParameter(p.Name, p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                d.Min.ToString(System.Globalization.CultureInfo.InvariantCulture), d.Max.ToString(System.Globalization.CultureInfo.InvariantCulture), d.Meaning);
        }).ToArray();
        var proposals = gov.Proposals.Select(p =>
        {
            var t = p.Tally ?? Skein.Ledger.Governance.GovernanceTally.Count(p.Snapshot, p.Votes, rules);
            return new ApiProposal(p.Id, p.Kind, p.Proposer.ToString(), Tokens.Format(p.Deposit), p.StartHeight, p.EndHeight, p.Status, p.Outcome, p.Asks, p.Votes.Count,
                Tokens.Format(t.Yes), Tokens.Format(t.Abstain), Tokens.Format(t.No), Tokens.Format(t.NoWithVeto), Tokens.Format(t.TotalPower),
                p.Tally is not null, t.QuorumReached, t.Vetoed, t.Passed)
            {
                Voter = voter is { } v
                    ? new ApiVoter(v.ToString(), Tokens.Format(p.Snapshot.PowerOf(v)), p.Votes.TryGetValue(v, out var option) ? VoteName(option) : null)
                    : null,
            };
        }).ToArray();
        var releases = gov.Releases.Select(r => new ApiRelease(r.TaskId, r.Release.ModelHash.ToString(), r.Release.Name, r.Release.License, r.Release.ProposalId, r.Release.Height)).ToArray();
        return new ApiGovernance(true, parameters, Tokens.Format(gov.Treasury), proposals, releases);
    }

    /// <summary>A vote option as <c>skein gov vote</c> and the API name it.</summary>
    public static string VoteName(Skein.Ledger.Governance.VoteOption option) => option switch
    {
        Skein.Ledger.Governance.VoteOption.Yes => "yes",
        Skein.Ledger.Governance.VoteOption.Abstain => "abstain",
        Skein.Ledger.Governance.VoteOption.No => "no",
        Skein.Ledger.Governance.VoteOption.NoWithVeto => "no_with_veto",
        _ => $"option {(byte)option}",
    };

    public static IEndpointRouteBuilder MapSkeinApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/api/status", async (CoordinatorContext c, CancellationToken ct) =>
        {
            var s = await c.Ledger.GetStatusAsync(ct);
            var tasks = await c.Ledger.ListTasksAsync(ct);
            return Json(new ApiStatus(s.ChainId, s.Height, s.HeadHash.ToString(), s.StateRoot.ToString(), c.Key.Address.ToString(), tasks.Count)
            {
                Supply = new ApiSupply(Tokens.Format(s.GenesisSupply), Tokens.Format(s.Emitted), Tokens.Format(s.Burned), Tokens.Format(s.Held), s.SupplyConserved),
                Time = s.Timestamp,
                Staked = Tokens.Format(s.Staked),
                NodesOnline = c.Sessions.Online(TimeSpan.FromMinutes(2)),
                Ledger = c.Ledger is Skein.Ledger.Evm.EvmLedger evm ? new ApiLedgerBackend("evm", evm.ContractAddress, evm.TasksAddress, evm.MarketAddress, evm.GovernanceAddress) : new ApiLedgerBackend("embedded"),
            });
        });
        app.MapGet("/api/tasks", async (CoordinatorContext c, CancellationToken ct) =>
        {
            var tasks = await c.Ledger.ListTasksAsync(ct);
            return Json(tasks.Select(t => ToApi(c, t)).ToArray());
        });
        app.MapGet("/api/tasks/{id}", async (ulong id, CoordinatorContext c, CancellationToken ct) =>
            await c.Ledger.GetTaskAsync(id, ct) is { } t ? Json(ToApi(c, t)) : NotFound($"task {id} does not exist"));
        app.MapGet("/api/tasks/{id}/rounds/{round}", async (ulong id, uint round, CoordinatorContext c, CancellationToken ct) =>
            await c.Ledger.GetRoundAsync(id, round, ct) is { } r ? Json(ToApi(r)) : NotFound($"task {id} has no round {round}"));
        // ?from=r: only rounds r and later; settled rounds never change, so a client that has them asks for the rest.
        app.MapGet("/api/tasks/{id}/rounds", async (ulong id, uint? from, CoordinatorContext c, CancellationToken ct) =>
            await c.Ledger.GetTaskAsync(id, ct) is { } t ? Json(await RoundSummariesAsync(c, t, from ?? 1, ct)) : NotFound($"task {id} does not exist"));
        app.MapGet("/api/accounts/{address}", async (string address, CoordinatorContext c, CancellationToken ct) =>
            Address.TryParse(address, out var a, out _)
                ? Json(await AccountAsync(c.Ledger, a, ct))
                : Results.Problem($"address: '{address}' is not a 0x address", statusCode: StatusCodes.Status400BadRequest));
        app.MapGet("/api/tasks/{id}/leaderboard", async (ulong id, CoordinatorContext c, CancellationToken ct) =>
            await c.Ledger.GetTaskAsync(id, ct) is { } t ? Json(await LeaderboardAsync(c.Ledger, t, ct)) : NotFound($"task {id} does not exist"));
        app.MapGet("/api/governance", async (string? voter, CoordinatorContext c, CancellationToken ct) =>
        {
            if (voter is null)
            {
                return Json(await GovernanceAsync(c.Ledger, ct));
            }
            return Address.TryParse(voter, out var v, out _)
                ? Json(await GovernanceAsync(c.Ledger, v, ct))
                : Results.Problem($"voter: '{voter}' is not a 0x address", statusCode: StatusCodes.Status400BadRequest);
        });
        app.MapGet("/api/blobs/{sha256}", (string sha256, CoordinatorContext c, HttpContext http) =>
        {
            var hex = sha256.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? sha256[2..] : sha256;
            if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigitLower))
            {
                return Results.Problem($"sha256: must be 64 lowercase hex digits, got '{sha256}'", statusCode: StatusCodes.Status400BadRequest);
            }
            return c.Blobs.SizeOf(hex) is null
                ? NotFound($"blob {hex} is not stored here")
                : Results.Stream(body => CopyAsync(c, hex, body, http.RequestAborted), "application/octet-stream");
        });
        return app;
    }

    private static async Task CopyAsync(CoordinatorContext c, string hex, Stream body, CancellationToken ct)
    {
        await foreach (var chunk in c.Blobs.ReadAsync(hex, 0, CoordinatorService.DownloadChunkBytes, ct))
        {
            await body.WriteAsync(chunk, ct);
        }
    }

    private static IResult Json<T>(T value) => Results.Json(value, ApiJson.Options);

    private static IResult NotFound(string reason) => Results.Problem(reason, statusCode: StatusCodes.Status404NotFound);

    private static ApiTask ToApi(CoordinatorContext c, TaskInfo t)
    {
        var hosted = c.Index.Task(t.Id);
        var name = hosted is null ? "" : TaskSpec.Parse(hosted.SpecJson).Name;
        return new ApiTask(t.Id, name, t.Creator.ToString(), t.SpecHash.ToString(), t.Rounds, t.SettledRounds, t.Completed, t.ModelHash.ToString(),
            Tokens.Format(t.RewardPool), Tokens.Format(t.Escrow), t.Trainers.Select(a => a.ToString()).ToArray(), t.Validators.Select(a => a.ToString()).ToArray(),
            hosted?.SpecJson)
        {
            MetricsThrough = hosted is null ? 0 : c.Index.LastMetricRound(t.Id),
            Tournament = t.Tournament,
            RejectBelow = t.RejectBelow,
            Coordinator = t.Coordinator.ToString(),
            Cancelled = t.Cancelled,
            Refunded = t.Cancelled ? Tokens.Format(t.Refunded) : null,
            AbandonHeight = t.AbandonHeight,
        };
    }

    /// <summary>
    /// A federated update that was not accepted; a tournament submission that the validators voted down (below
    /// reject_below): one that was merely outranked, or no better than the base, or its trainer's weaker try, is not.
    /// </summary>
    private static bool Rejected(TaskInfo task, UpdateOutcome o) => task.Tournament is null ? !o.Accepted : o.ConsensusScore < task.RejectBelow;

    public static ApiRound ToApi(RoundInfo r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var settled = r.Phase == RoundPhase.Settled;
        var updates = r.Updates.Select((u, i) =>
        {
            var o = settled && i < r.Outcomes.Count ? r.Outcomes[i] : null;
            return new ApiUpdate(u.Trainer.ToString(), u.UpdateHash.ToString(), u.Samples, o?.ConsensusScore, o?.Accepted, o is null ? null : Tokens.Format(o.Reward));
        }).ToArray();
        return new ApiRound(r.TaskId, r.Round, r.Phase.ToString().ToLowerInvariant(), r.Seed.ToString(), r.ModelHash.ToString(), settled ? r.NewModelHash.ToString() : null,
            Strings(r.PickedTrainers), Strings(r.PickedValidators), updates, Strings(r.Committed), Strings(r.Revealed),
            r.Movements.Select(m => new ApiMovement(m.Account.ToString(), m.Kind, Tokens.Format(m.Amount), m.Reason)).ToArray())
        {
            Scores = r.Scores.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
            PhaseTimes = r.PhaseTimes,
            Deadline = r.Deadline,
            RewardUnits = settled ? r.Reward.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
            SettledTrainerStakes = r.SettledTrainerStakes.Count == 0 ? null : r.SettledTrainerStakes.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            SettledValidatorStakes = r.SettledValidatorStakes.Count == 0 ? null : r.SettledValidatorStakes.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
    }

    private static string[] Strings(IEnumerable<Address> addresses) => addresses.Select(a => a.ToString()).ToArray();

    /// <summary>Every round of a task in one answer, with the coordinator's test metrics where it has them.</summary>
    public static Task<IReadOnlyList<ApiRoundSummary>> RoundSummariesAsync(CoordinatorContext c, TaskInfo t, CancellationToken ct) => RoundSummariesAsync(c, t, 1, ct);

    /// <summary>The rounds of a task from <paramref name="from"/> on, with the coordinator's test metrics where it has them.</summary>
    public static async Task<IReadOnlyList<ApiRoundSummary>> RoundSummariesAsync(CoordinatorContext c, TaskInfo t, uint from, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(t);
        from = Math.Max(from, 1);
        var metrics = c.Index.Metrics(t.Id, from);
        var rounds = await c.Ledger.GetRoundsAsync(t.Id, from, uint.MaxValue, ct);
        return rounds.Select(r =>
        {
            var settled = r.Phase == RoundPhase.Settled;
            var consensus = r.Outcomes.Select(o => o.ConsensusScore).Order().ToArray();
            var m = metrics.TryGetValue(r.Round, out var mm) ? mm : ((double, double)?)null;
            return new ApiRoundSummary(r.Round, r.Phase.ToString().ToLowerInvariant(), r.PickedTrainers.Count, r.Updates.Count, r.Outcomes.Count(o => o.Accepted),
                r.Outcomes.Count(o => Rejected(t, o)), r.PickedValidators.Count, r.Committed.Count, r.Revealed.Count, settled ? r.NewModelHash.ToString() : null,
                r.PhaseTimes, consensus.Length == 0 ? null : consensus[consensus.Length / 2], m?.Item1, m?.Item2, Tokens.Format(r.Reward));
        }).ToArray();
    }

    /// <summary>An account with its history across every task's rounds, newest first.</summary>
    public static async Task<ApiAccount> AccountAsync(ILedger ledger, Address a, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        var info = await ledger.GetAccountAsync(a, ct);
        var history = new List<ApiAccountEvent>();
        foreach (var task in await ledger.ListTasksAsync(ct))
        {
            if (!task.Trainers.Contains(a) && !task.Validators.Contains(a) && task.Creator != a)
            {
                continue;
            }
            foreach (var r in await ledger.GetRoundsAsync(task.Id, 1, uint.MaxValue, ct))
            {
                for (var i = 0; i < r.Updates.Count; i++)
                {
                    var u = r.Updates[i];
                    if (u.Trainer != a)
                    {
                        continue;
                    }
                    var o = i < r.Outcomes.Count ? r.Outcomes[i] : null;
                    history.Add(new ApiAccountEvent(task.Id, r.Round, o is null ? "update" : o.Accepted ? "update accepted" : "update rejected", null,
                        $"{u.UpdateHash} ({u.Samples} samples{(o is null ? "" : $", consensus {o.ConsensusScore / 10_000.0:0.##}%")})"));
                }
                if (r.PickedValidators.Contains(a) && r.Phase == RoundPhase.Settled)
                {
                    history.Add(new ApiAccountEvent(task.Id, r.Round, r.Revealed.Contains(a) ? "scores revealed" : "scores missed", null,
                        r.Scores.TryGetValue(a, out var scores) ? $"{scores.Count} score(s)" : "no reveal"));
                }
                foreach (var m in r.Movements.Where(m => m.Account == a))
                {
                    history.Add(new ApiAccountEvent(task.Id, r.Round, m.Kind, Tokens.Format(m.Amount), m.Reason));
                }
            }
        }
        history.Reverse();
        return new ApiAccount(a.ToString(), Tokens.Format(info.Balance), info.Nonce,
            info.Stakes.Select(s => new ApiStake(s.Role.ToString().ToLowerInvariant(), Tokens.Format(s.Self), Tokens.Format(s.Delegated), s.CommissionBps,
                s.Delegations.Select(d => new ApiDelegation(d.Delegator.ToString(), a.ToString(), s.Role.ToString().ToLowerInvariant(), Tokens.Format(d.Amount))).ToArray())).ToArray(),
            info.DelegationsOut.Select(d => new ApiDelegation(d.Delegator.ToString(), d.Operator.ToString(), d.Role.ToString().ToLowerInvariant(), Tokens.Format(d.Amount))).ToArray(),
            info.Unbonding.Select(u => new ApiUnbonding(Tokens.Format(u.Amount), u.ReleaseHeight)).ToArray(),
            history);
    }

    /// <summary>Per participant and role, totals over the task's settled rounds, best earners first.</summary>
    public static async Task<IReadOnlyList<ApiLeaderboardEntry>> LeaderboardAsync(ILedger ledger, TaskInfo task, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(task);
        var rows = new Dictionary<(Address, string), Row>();
        Row RowOf(Address a, string role) => rows.TryGetValue((a, role), out var row) ? row : rows[(a, role)] = new Row();
        foreach (var a in task.Trainers)
        {
            RowOf(a, "trainer");
        }
        foreach (var a in task.Validators)
        {
            RowOf(a, "validator");
        }
        for (uint r = 1; r <= task.SettledRounds; r++)
        {
            if (await ledger.GetRoundAsync(task.Id, r, ct) is not { Phase: RoundPhase.Settled } round)
            {
                continue;
            }
            foreach (var o in round.Outcomes)
            {
                var row = RowOf(o.Trainer, "trainer");
                if (o.Accepted)
                {
                    row.Accepted++;
                }
                else if (Rejected(task, o))
                {
                    row.Rejected++;
                }
            }
            foreach (var v in round.PickedValidators)
            {
                var row = RowOf(v, "validator");
                if (round.Revealed.Contains(v))
                {
                    row.Revealed++;
                    if (round.Scores.TryGetValue(v, out var scores))
                    {
                        // How far this validator's scores sit from the consensus the round settled on.
                        for (var i = 0; i < scores.Count && i < round.Outcomes.Count; i++)
                        {
                            row.Deviation += (ulong)Math.Abs((long)scores[i] - (long)round.Outcomes[i].ConsensusScore);
                            row.Scored++;
                        }
                    }
                }
                else
                {
                    row.Missed++;
                }
            }
            foreach (var m in round.Movements)
            {
                var parts = m.Kind.Split(' ');
                if (parts.Length != 2 || parts[0] is not ("trainer" or "validator" or "delegator"))
                {
                    continue;
                }
                var row = RowOf(m.Account, parts[0]);
                if (parts[1] == "reward")
                {
                    row.Rewards += m.Amount;
                }
                else if (parts[1] == "slash")
                {
                    row.Slashed += m.Amount;
                }
            }
        }
        return rows
            .OrderByDescending(kv => kv.Value.Rewards).ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item1.ToString(), StringComparer.Ordinal)
            .Select(kv => new ApiLeaderboardEntry(kv.Key.Item1.ToString(), kv.Key.Item2, kv.Value.Accepted, kv.Value.Rejected, kv.Value.Revealed, kv.Value.Missed,
                Tokens.Format(kv.Value.Rewards), Tokens.Format(kv.Value.Slashed))
            {
                AgreementPpm = kv.Value.Scored == 0 ? null : 1_000_000 - Math.Min(1_000_000, kv.Value.Deviation / (ulong)kv.Value.Scored),
            })
            .ToArray();
    }

    private sealed class Row
    {
        public ulong Deviation { get; set; }

        public int Scored { get; set; }

        public int Accepted { get; set; }

        public int Rejected { get; set; }

        public int Revealed { get; set; }

        public int Missed { get; set; }

        public UInt128 Rewards { get; set; }

        public UInt128 Slashed { get; set; }
    }
}
