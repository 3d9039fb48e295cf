using System.Diagnostics;
using System.Globalization;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Evm;

/// <summary>What <see cref="EvmGasBenchmark"/> runs: a network of this size for this many rounds, and how gas is priced in dollars.</summary>
public sealed record EvmGasOptions
{
    public int Trainers { get; init; } = 10;

    public int Validators { get; init; } = 3;

    public int Rounds { get; init; } = 2;

    /// <summary>Gas price of the L2 the dollars are quoted for, in gwei.</summary>
    public decimal GasPriceGwei { get; init; } = 0.01m;

    /// <summary>Dollars per ether for the quote.</summary>
    public decimal EthUsd { get; init; } = 3_000m;

    public string? Validate() =>
        Trainers is < 2 or > 1_000 ? $"--trainers: must be in [2, 1000], got {Trainers}"
        : Validators is < 1 or > 100 ? $"--validators: must be in [1, 100], got {Validators}"
        : Rounds is < 1 or > 100 ? $"--rounds: must be in [1, 100], got {Rounds}"
        : GasPriceGwei <= 0 ? $"--gas-price-gwei: must be > 0, got {GasPriceGwei}"
        : EthUsd <= 0 ? $"--eth-usd: must be > 0, got {EthUsd}"
        : null;
}

/// <summary>Gas of one transaction type over a run: how many, median, largest, and the median wall time to a receipt.</summary>
public sealed record EvmTxGas(string Type, int Count, ulong MedianGas, ulong MaxGas, double MedianMs);

/// <summary>One round's gas: every transaction of the round, and its settlement (FinalizeRound) alone.</summary>
public sealed record EvmRoundGas(uint Round, int Transactions, ulong TotalGas, ulong FinalizeGas, double Seconds);

/// <summary>The result of <see cref="EvmGasBenchmark.RunAsync"/>.</summary>
public sealed record EvmGasResult(int Trainers, int Validators, IReadOnlyList<EvmTxGas> Transactions, IReadOnlyList<EvmRoundGas> Rounds)
{
    public ulong RoundGasMedian { get; init; }

    public ulong FinalizeGasMax { get; init; }

    public ulong BlockGasLimit { get; init; }

    /// <summary>The largest settlement fits in one block of the chain it ran on.</summary>
    public bool SettlementFitsInABlock => FinalizeGasMax <= BlockGasLimit;

    public decimal GasPriceGwei { get; init; }

    public decimal EthUsd { get; init; }

    /// <summary>The median round's gas at <see cref="GasPriceGwei"/> and <see cref="EthUsd"/>.</summary>
    public decimal RoundUsd { get; init; }

    public ulong DeployGas { get; init; }

    /// <summary>Gas of one rental on the market, from the providers' registration and audit to the deployment's close (12 transactions).</summary>
    public ulong RentalGas { get; init; }

    /// <summary><see cref="RentalGas"/> at <see cref="GasPriceGwei"/> and <see cref="EthUsd"/>.</summary>
    public decimal RentalUsd { get; init; }

    /// <summary>Gas the tally and execution of one parameter change adds to the transaction that triggers it, with every trainer and validator voting.</summary>
    public ulong TallyGas { get; init; }

    public int TallyVoters { get; init; }
}

/// <summary>
/// Gas per transaction type and per round on Skein's contracts: a task with every trainer and validator picked, one
/// trainer sending updates every validator scores 0 (so that settlement slashes), every validator revealing; then
/// one rental on the market that uses every market transaction type.
/// </summary>
public static class EvmGasBenchmark
{
    /// <summary>Deploys the contracts on <paramref name="rpc"/>'s chain (gas paid with <paramref name="relayerKey"/>) and runs every transaction type, measuring each.</summary>
    /// <param name="rpc">The chain's JSON-RPC URL.</param>
    /// <param name="relayerKey">The key (hex) that pays for the deployment.</param>
    /// <param name="chainId">The chain's id.</param>
    /// <param name="options">The network's size, its rounds, and the price of gas.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="advance">Moves the chain's clock on (a dev chain's time travel), so that deadlines and the abandonment period pass; null: those transactions are not measured.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task<EvmGasResult> RunAsync(Uri rpc, string relayerKey, ulong chainId, EvmGasOptions options, Action<string>? log = null,
        Func<TimeSpan, CancellationToken, Task>? advance = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } invalid)
        {
            throw new ArgumentException(invalid, nameof(options));
        }
        static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("skein-gas-bench/" + name)));
        var trainers = Enumerable.Range(1, options.Trainers).Select(i => Key($"t{i}")).ToArray();
        var validators = Enumerable.Range(1, options.Validators).Select(i => Key($"v{i}")).ToArray();
        var coordinator = Key("coordinator");
        var tenant = Key("tenant");
        var auditor = Key("auditor");
        LedgerKey[] providers = [Key("provider-1"), Key("provider-2")];
        LedgerKey[] everyone = [coordinator, .. trainers, .. validators, tenant, auditor, .. providers];
        // The voting period fits every member's vote, a plain transfer, and the transfer whose block ends it.
        var voters = options.Trainers + options.Validators;
        var parameters = LedgerParams.Default with { Governance = Governance.GovernanceParams.Default with { VotingPeriodBlocks = (ulong)voters + 2 } };
        var genesis = new Genesis(chainId, parameters, everyone.Select(k => new GenesisAllocation(k.Address, Tokens.Whole(10_000))).ToArray(),
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await using var ledger = await EvmLedger.DeployAsync(rpc, relayerKey, genesis, cancellationToken);
        var nonces = new Dictionary<Address, ulong>();
        var samples = new Dictionary<string, List<(ulong Gas, double Ms)>>(StringComparer.Ordinal);

        async Task<ulong> Send(LedgerKey key, Func<Address, ulong, Transaction> build)
        {
            var tx = build(key.Address, nonces.GetValueOrDefault(key.Address));
            var clock = Stopwatch.StartNew();
            var (_, gas) = await ledger.SubmitMeasuredAsync(key.SignTransaction(tx, chainId), cancellationToken);
            nonces[key.Address] = nonces.GetValueOrDefault(key.Address) + 1;
            if (!samples.TryGetValue(tx.TypeName, out var list))
            {
                samples[tx.TypeName] = list = [];
            }
            list.Add((gas, clock.Elapsed.TotalMilliseconds));
            return gas;
        }

        log?.Invoke($"staking and joining: {options.Trainers} trainers, {options.Validators} validators");
        foreach (var t in trainers)
        {
            await Send(t, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(100) });
        }
        foreach (var v in validators)
        {
            await Send(v, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(100) });
        }
        await Send(coordinator, (f, n) => new CreateTask
        {
            From = f, Nonce = n, SpecHash = new Hash32(Enumerable.Repeat((byte)9, 32).ToArray()), RewardPool = Tokens.Whole(1_000), Rounds = (uint)options.Rounds,
            MinStake = Tokens.Whole(10), TrainersPerRound = (uint)options.Trainers, ValidatorsPerRound = (uint)options.Validators, RejectBelow = 500_000,
        });
        foreach (var t in trainers)
        {
            await Send(t, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        }
        foreach (var v in validators)
        {
            await Send(v, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
        }

        var rounds = new List<EvmRoundGas>();
        var model = new Hash32(Enumerable.Repeat((byte)1, 32).ToArray());
        for (var r = 1u; r <= options.Rounds; r++)
        {
            var round = r;
            var clock = Stopwatch.StartNew();
            ulong total = 0;
            var count = 0;
            async Task Add(LedgerKey key, Func<Address, ulong, Transaction> build)
            {
                total += await Send(key, build);
                count++;
            }
            var start = model;
            await Add(coordinator, (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = round, ModelHash = start });
            for (var i = 0; i < trainers.Length; i++)
            {
                var update = new Hash32(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes((r * 100_000) + (uint)i)));
                var n = (ulong)(1_000 + i);
                await Add(trainers[i], (f, nonce) => new SubmitUpdate { From = f, Nonce = nonce, TaskId = 1, Round = round, UpdateHash = update, Samples = n });
            }
            await Add(coordinator, (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 1, Round = round });
            var salt = new Hash32(Enumerable.Repeat((byte)r, 32).ToArray());
            var scores = validators.ToDictionary(v => v.Address, v => Enumerable.Range(0, trainers.Length)
                .Select(i => i == trainers.Length - 1 ? 0UL : (ulong)(900_000 + ((i * 7 + (int)v.Address.ToBytes()[19]) % 50) * 1_000)).ToArray());
            foreach (var v in validators)
            {
                var commitment = SignedTransaction.ScoreCommitment(1, round, v.Address, scores[v.Address], salt);
                await Add(v, (f, n) => new CommitScores { From = f, Nonce = n, TaskId = 1, Round = round, Commitment = commitment });
            }
            await Add(coordinator, (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = 1, Round = round });
            foreach (var v in validators)
            {
                await Add(v, (f, n) => new RevealScores { From = f, Nonce = n, TaskId = 1, Round = round, Scores = scores[v.Address], Salt = salt });
            }
            model = new Hash32(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(r)));
            var next = model;
            var before = total;
            await Add(coordinator, (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 1, Round = round, NewModelHash = next });
            rounds.Add(new EvmRoundGas(round, count, total, total - before, Math.Round(clock.Elapsed.TotalSeconds, 2)));
            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"round {round}: {count} transactions, {total:N0} gas, settlement {total - before:N0} gas, {clock.Elapsed.TotalSeconds:0.0} s"));
        }
        // Governance: a parameter change every member votes on; the tally runs first in the transaction at the period's end.
        log?.Invoke($"governance: a parameter change, {voters} votes, the tally");
        await Send(coordinator, (f, n) => new SubmitProposal
        {
            From = f, Nonce = n, Kind = Governance.ProposalKind.ParameterChange, Parameter = "incentives.trainer_slash_bps", Value = 2_000, Deposit = Tokens.Whole(10),
        });
        foreach (var member in trainers.Concat(validators))
        {
            await Send(member, (f, n) => new VoteProposal { From = f, Nonce = n, ProposalId = 1, Option = Governance.VoteOption.Yes });
        }
        var plain = await Send(coordinator, (f, n) => new Transfer { From = f, Nonce = n, To = tenant.Address, Amount = 1 });
        var tally = await Send(coordinator, (f, n) => new Transfer { From = f, Nonce = n, To = tenant.Address, Amount = 1 }) - plain;
        samples["Transfer"].RemoveAt(1); // the triggering transfer is the tally's, not a transfer's
        if ((await ledger.GetIncentivesAsync(cancellationToken)).TrainerSlashBps != 2_000)
        {
            throw new InvalidOperationException("governance: the parameter change did not pass in the gas benchmark");
        }

        // The market: a rental from registration to close, every market transaction type once or more.
        log?.Invoke("market: two providers register, one is audited, a tenant rents one node and closes");
        ulong rental = 0;
        var rules = genesis.Params.MarketRules;
        for (var i = 0; i < providers.Length; i++)
        {
            var region = i == 0 ? "eu" : "us";
            rental += await Send(providers[i], (f, n) => new RegisterProvider
            {
                From = f, Nonce = n, HostUri = $"https://provider-{i + 1}.example:8443/", Attributes = $$"""{"region":"{{region}}","tier":"community"}""",
                Capacity = """{"cpu_millis":8000,"memory_bytes":34359738368,"storage_bytes":536870912000,"gpus":[]}""",
            });
        }
        rental += await Send(auditor, (f, n) => new SignProviderAttributes { From = f, Nonce = n, Provider = providers[0].Address, Attributes = """{"region":"eu"}""" });
        var group = new Skein.Ledger.Market.GroupSpec("node", new Skein.Ledger.Market.PlacementRequirements(new Dictionary<string, string> { ["region"] = "eu" }, [], [auditor.Address.ToString()]),
            [new Skein.Ledger.Market.GroupResource("trainer", new Skein.Ledger.Market.ResourceUnits(1_000, 2UL << 30, [new Skein.Ledger.Market.StorageUnits("default", 10UL << 30, "default", false)], 0, []),
                1, new Skein.Ledger.Market.DecCoin(rules.Denom, "1000"))]);
        rental += await Send(tenant, (f, n) => new CreateDeployment
        {
            From = f, Nonce = n, Dseq = 1, ManifestHash = new Hash32(Enumerable.Repeat((byte)7, 32).ToArray()), Groups = Skein.Ledger.Market.GroupSpec.ToCanonicalJson([group]),
            Deposit = Tokens.Whole(5),
        });
        rental += await Send(providers[0], (f, n) => new CreateBid { From = f, Nonce = n, Owner = tenant.Address, Dseq = 1, Gseq = 1, Oseq = 1, Price = 900 * rules.BaseUnitsPerDenomUnit });
        rental += await Send(tenant, (f, n) => new CreateLease { From = f, Nonce = n, Owner = f, Dseq = 1, Gseq = 1, Oseq = 1, Provider = providers[0].Address });
        rental += await Send(tenant, (f, n) => new DepositDeployment { From = f, Nonce = n, Owner = f, Dseq = 1, Amount = Tokens.Whole(1) });
        rental += await Send(providers[0], (f, n) => new WithdrawLease { From = f, Nonce = n, Owner = tenant.Address, Dseq = 1, Gseq = 1, Oseq = 1 });
        rental += await Send(providers[0], (f, n) => new CloseLease { From = f, Nonce = n, Owner = tenant.Address, Dseq = 1, Gseq = 1, Oseq = 1, Provider = f });
        // The provider dropped the lease: the group reopens with order 2; a bid there is withdrawn, and the tenant closes.
        rental += await Send(providers[0], (f, n) => new CreateBid { From = f, Nonce = n, Owner = tenant.Address, Dseq = 1, Gseq = 1, Oseq = 2, Price = 950 * rules.BaseUnitsPerDenomUnit });
        rental += await Send(providers[0], (f, n) => new CloseBid { From = f, Nonce = n, Owner = tenant.Address, Dseq = 1, Gseq = 1, Oseq = 2 });
        rental += await Send(tenant, (f, n) => new CloseDeployment { From = f, Nonce = n, Owner = f, Dseq = 1 });

        await LivenessAsync(Send, coordinator, tenant, auditor, trainers, validators, genesis.Params, advance, log, cancellationToken);

        var roundMedian = Median(rounds.Select(x => x.TotalGas));
        var blockLimit = await ledger.GetBlockGasLimitAsync(cancellationToken);
        return new EvmGasResult(options.Trainers, options.Validators,
            samples.Select(kv => new EvmTxGas(kv.Key, kv.Value.Count, Median(kv.Value.Select(x => x.Gas)), kv.Value.Max(x => x.Gas),
                Math.Round(kv.Value.Select(x => x.Ms).Order().ElementAt(kv.Value.Count / 2), 1))).ToArray(),
            rounds)
        {
            RoundGasMedian = roundMedian,
            FinalizeGasMax = rounds.Max(x => x.FinalizeGas),
            BlockGasLimit = blockLimit,
            GasPriceGwei = options.GasPriceGwei,
            EthUsd = options.EthUsd,
            RoundUsd = Math.Round(roundMedian * options.GasPriceGwei * 1e-9m * options.EthUsd, 4),
            RentalGas = rental,
            RentalUsd = Math.Round(rental * options.GasPriceGwei * 1e-9m * options.EthUsd, 4),
            TallyGas = tally,
            TallyVoters = voters,
        };
    }

    /// <summary>
    /// A second task whose creator hands it over, a member leaves it, and (with <paramref name="advance"/>) its new
    /// coordinator vanishes: members close each phase after its deadline and an outsider cancels it after the abandonment period.
    /// </summary>
    private static async Task LivenessAsync(Func<LedgerKey, Func<Address, ulong, Transaction>, Task<ulong>> send, LedgerKey creator, LedgerKey successor, LedgerKey outsider,
        LedgerKey[] trainers, LedgerKey[] validators, LedgerParams parameters, Func<TimeSpan, CancellationToken, Task>? advance, Action<string>? log, CancellationToken cancellationToken)
    {
        log?.Invoke("liveness: a handover, a member leaving, phases closed by members after their deadlines, a cancel after the abandonment period");
        await send(creator, (f, n) => new CreateTask
        {
            From = f, Nonce = n, SpecHash = new Hash32(Enumerable.Repeat((byte)8, 32).ToArray()), RewardPool = Tokens.Whole(100), Rounds = 2,
            MinStake = Tokens.Whole(10), TrainersPerRound = 2, ValidatorsPerRound = 1, RejectBelow = 500_000,
        });
        foreach (var (key, role) in new[] { (trainers[0], Role.Trainer), (trainers[1], Role.Trainer), (validators[0], Role.Validator) })
        {
            await send(key, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 2, Role = role });
        }
        await send(trainers[1], (f, n) => new LeaveTask { From = f, Nonce = n, TaskId = 2, Role = Role.Trainer });
        await send(creator, (f, n) => new HandoverTask { From = f, Nonce = n, TaskId = 2, Coordinator = successor.Address });
        var model = new Hash32(Enumerable.Repeat((byte)3, 32).ToArray());
        await send(successor, (f, n) => new OpenRound { From = f, Nonce = n, TaskId = 2, Round = 1, ModelHash = model });
        if (advance is null)
        {
            return;
        }
        var l = parameters.LivenessRules;
        var block = (long)parameters.MarketRules.BlockIntervalMs;
        TimeSpan Blocks(ulong count) => TimeSpan.FromMilliseconds(((long)count + 1) * block);
        await advance(Blocks(l.TrainingBlocks), cancellationToken);
        await send(trainers[0], (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = 2, Round = 1 });
        await advance(Blocks(l.CommitBlocks), cancellationToken);
        await send(validators[0], (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = 2, Round = 1 });
        await advance(Blocks(l.RevealBlocks), cancellationToken);
        await send(trainers[0], (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = 2, Round = 1, NewModelHash = model });
        await advance(Blocks(l.AbandonBlocks), cancellationToken);
        await send(outsider, (f, n) => new CancelTask { From = f, Nonce = n, TaskId = 2 });
    }

    private static ulong Median(IEnumerable<ulong> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
