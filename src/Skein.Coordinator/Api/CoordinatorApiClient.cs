using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Skein.Coordinator.Rounds;
using Skein.Core;
using Skein.Ledger;
using Skein.Ledger.Incentives;

namespace Skein.Coordinator.Api;

/// <summary>A client of a coordinator's JSON HTTP API; every blob it returns has been checked against its SHA-256.</summary>
public sealed class CoordinatorApiClient(Uri apiUri, System.Security.Cryptography.X509Certificates.X509Certificate2? pinnedCertificate = null) : IDisposable
{
    private readonly HttpClient _http = new(CertificatePin.Handler(pinnedCertificate)) { BaseAddress = apiUri, Timeout = TimeSpan.FromMinutes(5) };

    public Task<ApiStatus> GetStatusAsync(CancellationToken ct) => GetAsync<ApiStatus>("api/status", ct);

    public Task<ApiTask> GetTaskAsync(ulong task, CancellationToken ct) => GetAsync<ApiTask>($"api/tasks/{task}", ct);

    public Task<ApiRound> GetRoundAsync(ulong task, uint round, CancellationToken ct) => GetAsync<ApiRound>($"api/tasks/{task}/rounds/{round}", ct);

    public async Task<IReadOnlyList<ApiLeaderboardEntry>> GetLeaderboardAsync(ulong task, CancellationToken ct) =>
        await GetAsync<ApiLeaderboardEntry[]>($"api/tasks/{task}/leaderboard", ct);

    public async Task<IReadOnlyList<ApiTask>> GetTasksAsync(CancellationToken ct) => await GetAsync<ApiTask[]>("api/tasks", ct);

    /// <summary>Every round of a task at a glance, with the coordinator's test metrics.</summary>
    public async Task<IReadOnlyList<ApiRoundSummary>> GetRoundSummariesAsync(ulong task, CancellationToken ct) =>
        await GetAsync<ApiRoundSummary[]>($"api/tasks/{task}/rounds", ct);

    /// <summary>The rounds of a task from <paramref name="from"/> on (a coordinator that predates <c>?from=</c> sends them all).</summary>
    public async Task<IReadOnlyList<ApiRoundSummary>> GetRoundSummariesAsync(ulong task, uint from, CancellationToken ct) =>
        await GetAsync<ApiRoundSummary[]>($"api/tasks/{task}/rounds?from={from}", ct);

    public Task<ApiAccount> GetAccountAsync(string address, CancellationToken ct) => GetAsync<ApiAccount>($"api/accounts/{address}", ct);

    public Task<ApiGovernance> GetGovernanceAsync(CancellationToken ct) => GetAsync<ApiGovernance>("api/governance", ct);

    /// <summary>Governance with <paramref name="voter"/>'s power and vote in each proposal.</summary>
    public Task<ApiGovernance> GetGovernanceAsync(string voter, CancellationToken ct) => GetAsync<ApiGovernance>($"api/governance?voter={Uri.EscapeDataString(voter)}", ct);

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>Downloads a blob and refuses it unless its bytes hash to the name asked for.</summary>
    public async Task<byte[]> GetBlobAsync(string sha256, CancellationToken ct)
    {
        var hex = sha256.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? sha256[2..] : sha256;
        using var response = await _http.GetAsync($"api/blobs/{hex}", ct);
        await EnsureAsync(response, $"blob {hex}", ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return actual == hex ? bytes : throw new InvalidDataException($"blob {hex}: the coordinator sent bytes that hash to {actual}");
    }

    private async Task<T> GetAsync<T>(string path, CancellationToken ct)
    {
        using var response = await _http.GetAsync(path, ct);
        await EnsureAsync(response, path, ct);
        return await response.Content.ReadFromJsonAsync<T>(ApiJson.Options, ct) ?? throw new InvalidDataException($"{path}: empty answer");
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            throw new HttpRequestException($"{what}: the coordinator answered {(int)response.StatusCode} {body}", null, response.StatusCode);
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The outcome of recomputing one round: its aggregate's hash on the ledger, the one recomputed, and why they differ if they do.</summary>
public sealed record RoundVerification(ulong Task, uint Round, bool Ok, int Accepted, string Expected, string Computed, string? Reason);

/// <summary>
/// Recomputes a settled round from public data only (the task spec, whose hash is on the ledger; the previous
/// models; the accepted updates) and compares the aggregate's SHA-256 with the one the ledger records.
/// </summary>
public static class RoundVerifier
{
    /// <summary>Checks a round against the facts the coordinator's API reports (its ledger, as it serves it).</summary>
    public static async Task<RoundVerification> VerifyAsync(CoordinatorApiClient api, ulong taskId, uint round, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(api);
        var task = await api.GetTaskAsync(taskId, ct);
        var r = await api.GetRoundAsync(taskId, round, ct);
        if (task.Tournament is { } tournament)
        {
            return await VerifyWindowAsync(api, task, tournament, r, ct);
        }
        var facts = new RoundFacts(r.Phase, r.NewModelHash, r.ModelHash, r.Seed, task.SpecHash,
            r.Updates.Where(u => u.Accepted == true).Select(u => (Hash32.Parse(u.Hash), u.Samples)).ToArray(),
            round > 1 && r.NewModelHash is not null && r.Updates.Any(u => u.Accepted == true) ? Hash32.Parse((await api.GetRoundAsync(taskId, round - 1, ct)).ModelHash) : null);
        return await CheckAsync(taskId, round, facts, task.Spec, api, ct);
    }

    /// <summary>
    /// Checks a round against the ledger itself (an EVM chain read through its own node, say): the spec's hash, the
    /// models, the seed and which updates were accepted come from <paramref name="ledger"/>; only the spec's text and
    /// the blobs come from the coordinator, and both are checked against hashes the ledger holds.
    /// </summary>
    public static async Task<RoundVerification> VerifyAsync(ILedger ledger, CoordinatorApiClient api, ulong taskId, uint round, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(api);
        var task = await ledger.GetTaskAsync(taskId, ct);
        var r = await ledger.GetRoundAsync(taskId, round, ct);
        if (task is null || r is null)
        {
            return new RoundVerification(taskId, round, false, 0, "", "", task is null ? $"task {taskId} is not on the ledger" : $"round {round} is not on the ledger");
        }
        var settled = r.Phase == Ledger.State.RoundPhase.Settled;
        var accepted = r.Outcomes.Select((o, i) => (o, i)).Where(x => x.o.Accepted).Select(x => (r.Updates[x.i].UpdateHash, r.Updates[x.i].Samples)).ToArray();
        var previous = round > 1 && settled && accepted.Length > 0 ? (await ledger.GetRoundAsync(taskId, round - 1, ct))?.ModelHash : null;
        var facts = new RoundFacts(r.Phase.ToString().ToLowerInvariant(), settled ? r.NewModelHash.ToString() : null, r.ModelHash.ToString(), r.Seed.ToString(),
            task.SpecHash.ToString(), accepted, previous);
        string? spec = null;
        try
        {
            spec = (await api.GetTaskAsync(taskId, ct)).Spec;
        }
        catch (HttpRequestException)
        {
            // A coordinator that does not know the task publishes no spec: reported below.
        }
        return await CheckAsync(taskId, round, facts, spec, api, ct);
    }

    /// <summary>
    /// A tournament window: recomputes every submission's consensus and payout and every validator's reward from the
    /// revealed scores and the stakes settlement used (<see cref="TournamentSettlement"/>), then the window's model (the
    /// winner's update merged into the window's model), and compares each with what the ledger recorded.
    /// </summary>
    private static async Task<RoundVerification> VerifyWindowAsync(CoordinatorApiClient api, ApiTask task, TournamentRules rules, ApiRound r, CancellationToken ct)
    {
        RoundVerification Fail(string reason, string computed = "") => new(task.Id, r.Round, false, 0, r.NewModelHash ?? "", computed, reason);
        if (r.NewModelHash is null || r.RewardUnits is null)
        {
            return Fail($"window {r.Round} is {r.Phase}, not settled");
        }
        if (task.Spec is null)
        {
            return Fail("the coordinator does not publish this task's spec");
        }
        var spec = TaskSpec.Parse(task.Spec, "spec");
        if (!string.Equals("0x" + spec.Sha256(), task.SpecHash, StringComparison.OrdinalIgnoreCase))
        {
            return Fail($"the published spec hashes to 0x{spec.Sha256()}, the ledger records {task.SpecHash}");
        }
        var incentives = await IncentivesAsync(api, ct);
        var trainerStakes = r.SettledTrainerStakes ?? new Dictionary<string, string>();
        var validatorStakes = r.SettledValidatorStakes ?? new Dictionary<string, string>();
        UInt128 Units(IReadOnlyDictionary<string, string> stakes, string who) =>
            stakes.TryGetValue(who, out var v) ? UInt128.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : UInt128.Zero;
        var scores = r.Scores ?? new Dictionary<string, IReadOnlyList<ulong>>();
        var input = new SettlementInput(
            r.Updates.Select(u => new UpdateInfo(Address.Parse(u.Trainer), u.Samples)).ToArray(),
            scores.OrderBy(kv => Address.Parse(kv.Key)).Select(kv => new ValidatorReveal(Address.Parse(kv.Key), Units(validatorStakes, kv.Key), kv.Value)).ToArray(),
            r.Committed.Where(v => !scores.ContainsKey(v)).Select(v => Address.Parse(v)).ToArray(),
            UInt128.Parse(r.RewardUnits, System.Globalization.CultureInfo.InvariantCulture),
            task.RejectBelow,
            incentives);
        // Exact copies of any earlier submission of another trainer in the task, as the ledger finds them.
        var earlier = new List<(Address, Hash32)>();
        for (uint w = 1; w < r.Round; w++)
        {
            earlier.AddRange((await api.GetRoundAsync(task.Id, w, ct)).Updates.Select(u => (Address.Parse(u.Trainer), Hash32.Parse(u.Hash))));
        }
        var copies = TournamentSettlement.ExactCopies(earlier, r.Updates.Select(u => (Address.Parse(u.Trainer), Hash32.Parse(u.Hash))).ToArray());
        SettlementResult result;
        try
        {
            result = TournamentSettlement.Compute(input, rules, r.Updates.Select(u => Units(trainerStakes, u.Trainer)).ToArray(), copies);
        }
        catch (ArgumentException ex)
        {
            // Facts that cannot be settled (a reveal with the wrong number of scores, say) cannot be confirmed either.
            return Fail($"the window's facts do not settle: {ex.Message}");
        }
        for (var i = 0; i < r.Updates.Count; i++)
        {
            var (u, v) = (r.Updates[i], result.Verdicts[i]);
            if (u.ConsensusPpm != v.ConsensusScore || u.Accepted != v.Accepted || u.Reward != Tokens.Format(v.Reward))
            {
                return Fail(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"submission {i} of {u.Trainer}: the ledger records consensus {u.ConsensusPpm} ppm, ranked {u.Accepted}, paid {u.Reward}; recomputed {v.ConsensusScore} ppm, {v.Accepted}, {Tokens.Format(v.Reward)}"));
            }
        }
        // Each validator's reward as the ledger paid it: to the validator, and to its delegators "(delegated to ...)".
        foreach (var validator in input.Revealed.Select(v => v.Validator))
        {
            var name = validator.ToString();
            var paid = r.Movements
                .Where(m => (m.Kind == "validator reward" && string.Equals(m.Account, name, StringComparison.OrdinalIgnoreCase))
                    || (m.Kind == "delegator reward" && m.Reason.Contains("scores agreeing", StringComparison.Ordinal) && m.Reason.Contains($"(delegated to {name})", StringComparison.OrdinalIgnoreCase)))
                .Aggregate(UInt128.Zero, (sum, m) => sum + Tokens.Parse(m.Amount, "amount"));
            var expected = result.ValidatorRewards.GetValueOrDefault(validator);
            if (paid != expected)
            {
                return Fail($"validator {name}: the ledger paid {Tokens.Format(paid)}, recomputed {Tokens.Format(expected)}");
            }
        }
        var winner = TournamentWindow.Winner(result.Verdicts);
        string computed;
        if (winner < 0)
        {
            computed = r.ModelHash;
        }
        else
        {
            try
            {
                var bytes = await TournamentWindow.MergeAsync((hash, c) => api.GetBlobAsync(hash, c), spec, Hash32.Parse(r.ModelHash), Hash32.Parse(r.Updates[winner].Hash), ct);
                computed = "0x" + Convert.ToHexStringLower(SHA256.HashData(bytes));
            }
            catch (Exception ex) when (ex is InvalidDataException or FormatException or ArgumentException)
            {
                return Fail(ex.Message);
            }
        }
        var ok = string.Equals(computed, r.NewModelHash, StringComparison.OrdinalIgnoreCase);
        return new RoundVerification(task.Id, r.Round, ok, result.Verdicts.Count(v => v.Accepted), r.NewModelHash, computed, ok ? null : "the recomputed window model (the winner merged) differs from the ledger's");
    }

    /// <summary>The incentive rules in force, from the coordinator's governance page (the defaults where it has none).</summary>
    private static async Task<IncentiveParams> IncentivesAsync(CoordinatorApiClient api, CancellationToken ct)
    {
        var p = IncentiveParams.Default;
        ApiGovernance governance;
        try
        {
            governance = await api.GetGovernanceAsync(ct);
        }
        catch (HttpRequestException)
        {
            return p;
        }
        foreach (var g in governance.Parameters)
        {
            if (!ulong.TryParse(g.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }
            p = g.Name switch
            {
                "incentives.supermajority_bps" => p with { SupermajorityBps = (uint)value },
                "incentives.agreement_tolerance" => p with { AgreementTolerance = value },
                _ => p,
            };
        }
        return p;
    }

    /// <summary>What a round's recomputation needs from the ledger, whoever reports it.</summary>
    private sealed record RoundFacts(string Phase, string? NewModelHash, string ModelHash, string Seed, string SpecHash, (Hash32 Hash, ulong Samples)[] Accepted, Hash32? Previous);

    private static async Task<RoundVerification> CheckAsync(ulong taskId, uint round, RoundFacts r, string? specJson, CoordinatorApiClient api, CancellationToken ct)
    {
        if (r.NewModelHash is null)
        {
            return new RoundVerification(taskId, round, false, 0, "", "", $"round {round} is {r.Phase}, not settled");
        }
        if (specJson is null)
        {
            return new RoundVerification(taskId, round, false, 0, r.NewModelHash, "", "the coordinator does not publish this task's spec");
        }
        var spec = TaskSpec.Parse(specJson, "spec");
        if (!string.Equals("0x" + spec.Sha256(), r.SpecHash, StringComparison.OrdinalIgnoreCase))
        {
            return new RoundVerification(taskId, round, false, 0, r.NewModelHash, "", $"the published spec hashes to 0x{spec.Sha256()}, the ledger records {r.SpecHash}");
        }
        string computed;
        if (r.Accepted.Length == 0)
        {
            // Nothing accepted: the model stays as it was.
            computed = r.ModelHash;
        }
        else
        {
            var inputs = new RoundInputs(round, Hash32.Parse(r.Seed), Hash32.Parse(r.ModelHash), r.Previous, r.Accepted);
            byte[] bytes;
            try
            {
                bytes = await RoundAggregation.ComputeAsync((hash, c) => api.GetBlobAsync(hash, c), spec, inputs, ct);
            }
            catch (Exception ex) when (ex is InvalidDataException or FormatException or ArgumentException)
            {
                // A blob that does not match its hash, or is not a valid update: the round cannot be confirmed.
                return new RoundVerification(taskId, round, false, r.Accepted.Length, r.NewModelHash, "", ex.Message);
            }
            computed = "0x" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        }
        var ok = string.Equals(computed, r.NewModelHash, StringComparison.OrdinalIgnoreCase);
        return new RoundVerification(taskId, round, ok, r.Accepted.Length, r.NewModelHash, computed, ok ? null : "the recomputed aggregate differs from the ledger's");
    }
}
