using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Skein.Coordinator.State;
using Skein.Core;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Transactions;

namespace Skein.Console.Bench;

/// <summary>
/// Builds a long, deterministic history on a real embedded ledger: one task with many settled rounds (updates by
/// hash only: no model is trained), stakes, delegations, rejected updates and slashes, and a few market leases;
/// then the coordinator's index with the task's spec and a test metric per round. Every transaction is signed and
/// goes through the ledger's rules, so the pages read exactly what a real network would have left behind.
/// </summary>
public sealed partial class LongHistoryGenerator : IAsyncDisposable
{
    /// <summary>The chain starts at a fixed time (2026-01-01 UTC): block hashes, and so the ledger's picks, then depend on the seed alone.</summary>
    private const long Epoch = 1_767_225_600_000;
    private const ulong ChainId = 7_357;
    private const ulong MinStake = 100;
    private const ulong PoolPerRound = 50;

    /// <summary>The demo's rules: a market block a second, so a served chain moves on every second as a live one does.</summary>
    private static readonly LedgerParams Parameters = LedgerParams.Default with
    {
        Market = MarketParams.Default with { BlockIntervalMs = 1_000, MinDeposit = Tokens.One / 10, BidDeposit = Tokens.One / 100 },
    };

    private readonly LongHistoryOptions _options;
    private readonly EmbeddedLedger _ledger;
    private readonly SteppedClock _clock;
    private readonly Dictionary<string, LedgerKey> _keys;
    private readonly Dictionary<Address, string> _names;
    private readonly Dictionary<Address, ulong> _nonces = [];
    private readonly DeterministicRandom _rng;
    private readonly string[] _trainers;
    private readonly string[] _validators;
    private readonly string[] _delegators;
    private readonly Action<string> _progress;
    private long _transactions;
    private ulong _blocks;

    private LongHistoryGenerator(LongHistoryOptions options, EmbeddedLedger ledger, SteppedClock clock, Dictionary<string, LedgerKey> keys, Action<string> progress)
    {
        _options = options;
        _ledger = ledger;
        _clock = clock;
        _keys = keys;
        _names = keys.ToDictionary(kv => kv.Value.Address, kv => kv.Key);
        _rng = DeterministicRandom.Derive(options.Seed, "bench-console/history");
        _trainers = [.. keys.Keys.Where(k => k.StartsWith("trainer-", StringComparison.Ordinal)).OrderBy(Index)];
        _validators = [.. keys.Keys.Where(k => k.StartsWith("validator-", StringComparison.Ordinal)).OrderBy(Index)];
        _delegators = [.. keys.Keys.Where(k => k.StartsWith("delegator-", StringComparison.Ordinal)).OrderBy(Index)];
        _progress = progress;
    }

    /// <summary>
    /// Writes the history into <paramref name="dataDirectory"/> (ledger.db and coordinator.db, as a coordinator lays
    /// out its folder, which must not hold a ledger yet) and says what it holds.
    /// </summary>
    public static async Task<LongHistory> GenerateAsync(string dataDirectory, LongHistoryOptions options, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataDirectory);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, "ledger.db");
        if (File.Exists(path))
        {
            throw new IOException($"history: {path} already holds a ledger; generate into an empty folder");
        }
        var clock = Stopwatch.StartNew();
        var keys = Names(options).ToDictionary(n => n, options.Key);
        var genesis = new Genesis(ChainId, Parameters, keys.Select(kv => new GenesisAllocation(kv.Value.Address, Tokens.Whole(Allocation(kv.Key)))).ToArray(), Epoch);
        var time = new SteppedClock(Epoch);
        var ledger = await EmbeddedLedger.OpenAsync(path, genesis, time, cancellationToken);
        LongHistory history;
        await using (var g = new LongHistoryGenerator(options, ledger, time, keys, progress ?? (_ => { })))
        {
            var (taskId, spec) = await g.SetupAsync(cancellationToken);
            var (trainer, validator) = await g.RoundsAsync(taskId, cancellationToken);
            var (rejected, slashes) = await g.CountAsync(taskId, cancellationToken);
            g.WriteIndex(dataDirectory, taskId, spec);
            history = new LongHistory(taskId, options.Rounds, g._trainers.Length, g._validators.Length, g._transactions, g._blocks, clock.Elapsed.TotalSeconds,
                keys["coordinator"].Address, keys[trainer].Address, keys[validator].Address, rejected, slashes, Deployments - 1);
        }
        foreach (var key in keys.Values)
        {
            key.Dispose();
        }
        return history;
    }

    /// <summary>Every participant: the coordinator, trainers and validators (the nodes), delegators, providers and tenants.</summary>
    private static IEnumerable<string> Names(LongHistoryOptions o)
    {
        var validators = Math.Max(3, o.Nodes / 5);
        return ["coordinator",
            .. Enumerable.Range(0, o.Nodes - validators).Select(i => $"trainer-{i}"),
            .. Enumerable.Range(0, validators).Select(i => $"validator-{i}"),
            .. Enumerable.Range(0, Math.Max(2, o.Nodes / 10)).Select(i => $"delegator-{i}"),
            .. Enumerable.Range(0, Providers).Select(i => $"provider-{i}"),
            .. Enumerable.Range(0, 2).Select(i => $"tenant-{i}")];
    }

    private static ulong Allocation(string name) => name == "coordinator" ? 100_000_000UL : name.StartsWith("provider-", StringComparison.Ordinal) ? 1_000UL : 20_000UL;

    private static int Index(string name) => int.Parse(name[(name.IndexOf('-', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture);

    /// <summary>The task (with one round more than will settle, so one stays open), stakes and joins, delegations, and the market's leases.</summary>
    private async Task<(ulong TaskId, string Spec)> SetupAsync(CancellationToken ct)
    {
        var rounds = (uint)_options.Rounds + 1;
        var spec = $$"""
            {"name":"long-history","model":"2nn","rounds":{{rounds}},"trainers_per_round":{{Math.Min(10, _trainers.Length)}},"validators_per_round":3,"reward_pool":"{{PoolPerRound * rounds}}","min_stake":"{{MinStake}}","reject_below":0.5}
            """;
        var parsed = TaskSpec.Parse(spec, "history");
        await BlockAsync(6_000, [("coordinator", (f, n) => new CreateTask
        {
            From = f,
            Nonce = n,
            SpecHash = Hash32.Parse(parsed.Sha256()),
            RewardPool = Tokens.Parse(parsed.RewardPool),
            Rounds = parsed.Rounds,
            MinStake = Tokens.Parse(parsed.MinStake),
            TrainersPerRound = parsed.TrainersPerRound,
            ValidatorsPerRound = parsed.ValidatorsPerRound,
            RejectBelow = (uint)Math.Round(parsed.RejectBelow * 1_000_000),
        })], ct);
        var taskId = (await _ledger.ListTasksAsync(ct)).Max(t => t.Id);

        var joins = new List<(string, Func<Address, ulong, Transaction>)>();
        foreach (var (names, role, low, span) in new[] { (_trainers, Role.Trainer, 500, 1_500), (_validators, Role.Validator, 2_000, 8_000) })
        {
            foreach (var name in names)
            {
                var amount = Tokens.Whole((ulong)(low + _rng.NextInt(span)));
                joins.Add((name, (f, n) => new Stake { From = f, Nonce = n, Role = role, Amount = amount }));
                joins.Add((name, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = taskId, Role = role }));
            }
        }
        await BlockAsync(6_000, joins, ct);

        // Delegators back the first validators and trainers, which take a commission: their rounds pay several accounts.
        var delegations = new List<(string, Func<Address, ulong, Transaction>)>();
        for (var i = 0; i < _delegators.Length; i++)
        {
            var (op, role) = i % 2 == 0 ? (_validators[i / 2 % _validators.Length], Role.Validator) : (_trainers[i / 2 % _trainers.Length], Role.Trainer);
            var target = _keys[op].Address;
            var amount = Tokens.Whole((ulong)(500 + _rng.NextInt(1_500)));
            delegations.Add((_delegators[i], (f, n) => new DelegateStake { From = f, Nonce = n, Operator = target, Role = role, Amount = amount }));
            if (i < 2)
            {
                var bps = (uint)(500 + (500 * i));
                delegations.Add((op, (f, n) => new SetCommission { From = f, Nonce = n, CommissionBps = bps }));
            }
        }
        await BlockAsync(6_000, delegations, ct);
        await MarketAsync(ct);
        return (taskId, spec);
    }

    /// <summary>Signs the transactions (each sender's next nonce, in order) and commits them as one block, <paramref name="advanceMs"/> after the last.</summary>
    private async Task BlockAsync(long advanceMs, IReadOnlyList<(string Who, Func<Address, ulong, Transaction> Build)> txs, CancellationToken ct)
    {
        _clock.Advance(advanceMs);
        var unsigned = new (LedgerKey Key, Transaction Tx)[txs.Count];
        for (var i = 0; i < txs.Count; i++)
        {
            var key = _keys[txs[i].Who];
            var nonce = _nonces.GetValueOrDefault(key.Address);
            _nonces[key.Address] = nonce + 1;
            unsigned[i] = (key, txs[i].Build(key.Address, nonce));
        }
        // Signing is most of the generator's time; the ledger checks every signature again when it applies the block.
        var signed = new SignedTransaction[unsigned.Length];
        Parallel.For(0, unsigned.Length, new ParallelOptions { CancellationToken = ct },
            i => signed[i] = unsigned[i].Key.SignTransaction(unsigned[i].Tx, ChainId) with { ChainId = ChainId });
        var results = await _ledger.SubmitBatchAsync(signed, ct);
        if (results.FirstOrDefault(r => r.Refusal is not null) is { } refused)
        {
            throw new InvalidOperationException($"history: the ledger refused a {refused.Transaction.Tx.TypeName} from {_names[refused.Transaction.Tx.From]}: {refused.Refusal!.Message}");
        }
        _transactions += signed.Length;
        _blocks++;
    }

    /// <summary>A hash nobody needs to invert: updates and models exist on this ledger by hash only.</summary>
    private Hash32 Hash(string purpose, long a, long b = 0) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{_options.Seed}/{purpose}/{a}/{b}"))));

    /// <summary>The coordinator's own records: the hosted task's spec (so pages show its name) and an accuracy and loss per settled round.</summary>
    private void WriteIndex(string dataDirectory, ulong taskId, string spec)
    {
        using var index = new CoordinatorIndex(Path.Combine(dataDirectory, "coordinator.db"));
        index.AddTask(new HostedTask((long)taskId, spec, Convert.ToHexStringLower(Hash("model", 0).Bytes)));
        var rng = DeterministicRandom.Derive(_options.Seed, "bench-console/metrics");
        var scale = Math.Max(1.0, _options.Rounds / 8.0);
        for (var r = 1; r <= _options.Rounds; r++)
        {
            var accuracy = Math.Clamp(0.985 - (0.88 * Math.Exp(-r / scale)) + (0.004 * rng.NextGaussian()), 0, 1);
            index.PutMetric(taskId, (uint)r, accuracy, (1.0 - accuracy) * 2.3);
        }
    }

    /// <summary>Updates rejected and slashes made, as the ledger settled them.</summary>
    private async Task<(int Rejected, int Slashes)> CountAsync(ulong taskId, CancellationToken ct)
    {
        var rounds = await _ledger.GetRoundsAsync(taskId, 1, uint.MaxValue, ct);
        return (rounds.Sum(r => r.Outcomes.Count(o => !o.Accepted)), rounds.Sum(r => r.Movements.Count(m => m.Kind.EndsWith("slash", StringComparison.Ordinal))));
    }

    public async ValueTask DisposeAsync() => await _ledger.DisposeAsync();

    /// <summary>The ledger's clock while generating: each block a chosen time after the last, so phase times look like a real network's.</summary>
    private sealed class SteppedClock(long start) : TimeProvider
    {
        private long _now = start;

        public void Advance(long ms) => _now += ms;

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(_now);
    }
}
