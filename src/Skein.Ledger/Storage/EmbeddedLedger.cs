using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Storage;

/// <summary>The outcome of one transaction of a batch: its receipt, or why it was refused.</summary>
public sealed record BatchResult(SignedTransaction Transaction, TxReceipt? Receipt, LedgerException? Refusal);

/// <summary>What verification found: the blocks checked, and the first bad block with the reason, if any.</summary>
public sealed record VerifyReport(ulong BlocksChecked, ulong TransactionsChecked, ulong? FirstBadBlock, string? Reason, Hash32 HeadStateRoot)
{
    public bool Ok => FirstBadBlock is null;
}

/// <summary>
/// The embedded ledger: the state machine over signed transactions, with hash-chained blocks in SQLite. The
/// in-memory state is always the state after the last committed block (plus, inside one call, the block being
/// built); on open it is rebuilt by replaying the stored blocks, so a killed process resumes at its last block.
/// </summary>
public sealed class EmbeddedLedger : ILedger
{
    private readonly BlockStore _store;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<PendingTransaction> _pending = [];
    private readonly Genesis _genesis;
    private readonly TimeProvider _time;
    private LedgerState _state;
    private ulong _headHeight;
    private Hash32 _headHash;
    private Hash32 _headRoot;
    private long _headTimestamp;

    private EmbeddedLedger(BlockStore store, Genesis genesis, LedgerState state, ulong headHeight, Hash32 headHash, Hash32 headRoot, TimeProvider time)
    {
        _store = store;
        _genesis = genesis;
        _state = state;
        _headHeight = headHeight;
        _headHash = headHash;
        _headRoot = headRoot;
        _headTimestamp = state.BlockTimestamp;
        _time = time;
    }

    /// <summary>The time of the head block (Unix ms); the block producer makes an empty block when it is a block interval old.</summary>
    public long HeadTimestamp => Volatile.Read(ref _headTimestamp);

    /// <summary>Where the time comes from (a fake clock in tests).</summary>
    public TimeProvider Time => _time;

    public ulong ChainId => _genesis.ChainId;

    /// <summary>The chain's rules, fixed at genesis.</summary>
    public LedgerParams Params => _genesis.Params;

    public string Path => _store.Path;

    /// <summary>
    /// Opens the chain stored at <paramref name="path"/>, creating it from <paramref name="genesis"/> if the file holds
    /// none. A given genesis that differs from the stored one is refused: it would be another chain.
    /// </summary>
    public static async Task<EmbeddedLedger> OpenAsync(string path, Genesis? genesis = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var store = await BlockStore.OpenAsync(path, cancellationToken);
        try
        {
            var stored = await store.ReadGenesisAsync(cancellationToken);
            if (stored is null)
            {
                if (genesis is null)
                {
                    throw new LedgerException(LedgerError.InvalidGenesis, $"ledger: {path} holds no chain; create one with a genesis (skein ledger init)");
                }
                var state = LedgerState.FromGenesis(genesis);
                var header = new BlockHeader(0, Hash32.Zero, genesis.Timestamp, BlockHeader.ComputeTxRoot([]), StateHasher.Root(state), 0);
                await store.InitializeAsync(genesis, header, cancellationToken);
                return new EmbeddedLedger(store, genesis, state, 0, header.Hash, header.StateRoot, time ?? TimeProvider.System);
            }
            if (genesis is not null && GenesisJson.Serialize(genesis) != GenesisJson.Serialize(stored))
            {
                throw new LedgerException(LedgerError.InvalidGenesis, $"genesis: {path} already holds chain {stored.ChainId} with another genesis");
            }
            var (replayed, head, hash, report) = await ReplayAsync(store, stored, verifySignatures: false, cancellationToken);
            if (!report.Ok)
            {
                throw new LedgerException(LedgerError.CorruptStore, $"ledger: block {report.FirstBadBlock} does not replay: {report.Reason} (run skein ledger verify)");
            }
            return new EmbeddedLedger(store, stored, replayed, head, hash, report.HeadStateRoot, time ?? TimeProvider.System);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Replays the whole chain from genesis, checking every signature, nonce, transaction root, hash link and state
    /// root; names the first block that fails.
    /// </summary>
    public static async Task<VerifyReport> VerifyAsync(string path, CancellationToken cancellationToken = default)
    {
        using var store = await BlockStore.OpenAsync(path, cancellationToken);
        var genesis = await store.ReadGenesisAsync(cancellationToken) ?? throw new LedgerException(LedgerError.InvalidGenesis, $"ledger: {path} holds no chain");
        return (await ReplayAsync(store, genesis, verifySignatures: true, cancellationToken)).Report;
    }

    public async Task<LedgerStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Between calls the state is the head block's, whose root was computed when it was sealed (hashing the
            // whole state again costs milliseconds per thousand rounds, and dashboards ask for the status every second).
            return new LedgerStatus(ChainId, _headHeight, _headHash, _headRoot, _state.GenesisSupply, _state.Emitted, _state.Burned, 0)
            {
                Held = _state.TotalHeld(),
                Timestamp = _headTimestamp,
                Staked = _state.Stakes.Values.Aggregate(UInt128.Zero, (sum, s) => sum + s.Total),
            };
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Applies one transaction, in a block with whatever else was submitted while the previous block was being
    /// sealed (group commit): under a burst of submissions the chain grows by a few blocks instead of one per
    /// transaction, and readers wait on fewer seals. Each transaction is applied, or refused, on its own, in the
    /// order it arrived; the receipt comes once its block is committed.
    /// </summary>
    public async Task<TxReceipt> SubmitAsync(SignedTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var mine = new PendingTransaction(transaction);
        lock (_pending)
        {
            _pending.Add(mine);
        }
        try
        {
            await _gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (_pending)
            {
                if (_pending.Remove(mine))
                {
                    throw;
                }
            }
            // Already taken into a block by another caller: its outcome is on the way and is this call's answer.
            return Outcome(await mine.Result.Task);
        }
        try
        {
            // Whoever holds the gate seals everything queued so far, this call's transaction among them unless a
            // caller before it already did.
            PendingTransaction[] batch;
            lock (_pending)
            {
                batch = [.. _pending];
                _pending.Clear();
            }
            if (batch.Length > 0)
            {
                try
                {
                    var results = await SubmitBatchLockedAsync([.. batch.Select(p => p.Transaction)], CancellationToken.None);
                    for (var i = 0; i < batch.Length; i++)
                    {
                        batch[i].Result.TrySetResult(results[i]);
                    }
                }
                catch (Exception ex)
                {
                    foreach (var p in batch)
                    {
                        p.Result.TrySetException(ex);
                    }
                }
            }
        }
        finally
        {
            _gate.Release();
        }
        return Outcome(await mine.Result.Task);
    }

    /// <summary>Holds the ledger as a block being sealed does, until the returned handle is disposed (tests of group commit).</summary>
    internal async Task<IDisposable> HoldAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        return new Releaser(_gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }

    /// <summary>Transactions waiting for the next block (tests of group commit).</summary>
    internal int PendingCount
    {
        get
        {
            lock (_pending)
            {
                return _pending.Count;
            }
        }
    }

    private static TxReceipt Outcome(BatchResult result) => result.Receipt ?? throw result.Refusal!;

    /// <summary>A transaction waiting for the next block, and where its outcome goes.</summary>
    private sealed record PendingTransaction(SignedTransaction Transaction)
    {
        public TaskCompletionSource<BatchResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Applies the transactions in order into one new block (refused ones are left out, each with its reason) and
    /// commits the block, unless every one was refused.
    /// </summary>
    public async Task<IReadOnlyList<BatchResult>> SubmitBatchAsync(IReadOnlyList<SignedTransaction> transactions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await SubmitBatchLockedAsync(transactions, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IReadOnlyList<BatchResult>> SubmitBatchLockedAsync(IReadOnlyList<SignedTransaction> transactions, CancellationToken cancellationToken)
    {
        var height = _headHeight + 1;
        var context = new BlockContext(height, _headHash, NextTimestamp());
        _state.Height = height;
        _state.LastBlockHash = _headHash;
        StateMachine.BeginBlock(_state, context);
        var included = new List<SignedTransaction>(transactions.Count);
        var ids = new List<Hash32>(transactions.Count);
        var results = new BatchResult[transactions.Count];
        for (var i = 0; i < transactions.Count; i++)
        {
            try
            {
                var id = transactions[i].Tx.Digest(ChainId);
                StateMachine.Apply(_state, transactions[i], context, digest: id);
                results[i] = new BatchResult(transactions[i], new TxReceipt(id, height, included.Count), null);
                included.Add(transactions[i]);
                ids.Add(id);
            }
            catch (LedgerException ex)
            {
                results[i] = new BatchResult(transactions[i], null, ex);
            }
        }
        if (included.Count == 0)
        {
            // Nothing to commit; BeginBlock may have released unbondings into this block, so drop it.
            await ReloadAsync(cancellationToken);
            return results;
        }
        await SealAsync(context, included, ids, cancellationToken);
        return results;
    }

    /// <summary>Commits an empty block: lets time (height) pass, e.g. to release matured unbonding.</summary>
    public async Task<ulong> ProduceEmptyBlockAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var height = _headHeight + 1;
            var context = new BlockContext(height, _headHash, NextTimestamp());
            _state.Height = height;
            _state.LastBlockHash = _headHash;
            StateMachine.BeginBlock(_state, context);
            await SealAsync(context, [], [], cancellationToken);
            return height;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<ulong> GetNonceAsync(Address account, CancellationToken cancellationToken = default) => Read(s => s.NonceOf(account), cancellationToken);

    public Task<UInt128> GetBalanceAsync(Address account, CancellationToken cancellationToken = default) => Read(s => s.BalanceOf(account), cancellationToken);

    public Task<StakeInfo> GetStakeAsync(Address operatorAddress, Role role, CancellationToken cancellationToken = default) => Read(s =>
    {
        var stake = s.StakeOf(operatorAddress, role);
        return new StakeInfo(operatorAddress, role, stake.Self, stake.Delegated, s.CommissionOf(operatorAddress), s.DelegationsTo(operatorAddress, role));
    }, cancellationToken);

    public Task<AccountInfo> GetAccountAsync(Address account, CancellationToken cancellationToken = default) => Read(s =>
    {
        var stakes = new[] { Role.Trainer, Role.Validator }.Select(role =>
        {
            var stake = s.StakeOf(account, role);
            return new StakeInfo(account, role, stake.Self, stake.Delegated, s.CommissionOf(account), s.DelegationsTo(account, role));
        }).ToArray();
        var delegations = s.Delegations.Where(d => d.Key.Delegator == account && d.Value > 0)
            .Select(d => new DelegationInfo(d.Key.Delegator, d.Key.Operator, d.Key.Role, d.Value)).ToArray();
        var unbonding = s.Unbondings.Where(u => u.Owner == account).Select(u => new UnbondingInfo(u.Amount, u.ReleaseHeight)).ToArray();
        return new AccountInfo(account, s.BalanceOf(account), s.NonceOf(account), stakes, delegations, unbonding);
    }, cancellationToken);

    public Task<TaskInfo?> GetTaskAsync(ulong taskId, CancellationToken cancellationToken = default) =>
        Read(s => s.Tasks.TryGetValue(taskId, out var t) ? ToInfo(s, t) : null, cancellationToken);

    public Task<IReadOnlyList<TaskInfo>> ListTasksAsync(CancellationToken cancellationToken = default) =>
        Read<IReadOnlyList<TaskInfo>>(s => s.Tasks.Values.Select(t => ToInfo(s, t)).ToArray(), cancellationToken);

    public Task<RoundInfo?> GetRoundAsync(ulong taskId, uint round, CancellationToken cancellationToken = default) => Read(s =>
        s.Tasks.TryGetValue(taskId, out var t) && t.RoundStates.TryGetValue(round, out var r) ? ToInfo(taskId, r) : null, cancellationToken);

    public Task<IReadOnlyList<RoundInfo>> GetRoundsAsync(ulong taskId, uint from, uint to, CancellationToken cancellationToken = default) =>
        Read<IReadOnlyList<RoundInfo>>(s => s.Tasks.TryGetValue(taskId, out var t)
            ? t.RoundStates.Where(kv => kv.Key >= from && kv.Key <= to).Select(kv => ToInfo(taskId, kv.Value)).ToArray()
            : [], cancellationToken);

    private static RoundInfo ToInfo(ulong taskId, RoundState r) =>
        new(taskId, r.Round, r.Phase, r.Seed, r.ModelHash, r.NewModelHash, r.Reward, r.PickedTrainers, r.PickedValidators, [.. r.Updates],
            [.. r.Commitments.Keys], [.. r.Reveals.Keys], [.. r.Outcomes], [.. r.Movements])
        {
            Scores = r.Reveals.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<ulong>)[.. kv.Value]),
            SettledTrainerStakes = r.SettledTrainerStakes.ToDictionary(),
            SettledValidatorStakes = r.SettledValidatorStakes.ToDictionary(),
            PhaseTimes = [.. r.PhaseTimes],
            Deadline = r.Deadline,
        };

    public async Task<BlockInfo?> GetBlockAsync(ulong height, CancellationToken cancellationToken = default)
    {
        var header = await _store.ReadHeaderAsync(height, cancellationToken);
        if (header is null)
        {
            return null;
        }
        var txs = header.TxCount == 0 ? [] : await _store.ReadTransactionsAsync(height, cancellationToken);
        return new BlockInfo(header.Height, header.Hash, header.PreviousHash, header.Timestamp, header.TxRoot, header.StateRoot, header.TxCount,
            txs.Select(t => t.Tx.Digest(ChainId)).ToArray());
    }

    public async Task<(SignedTransaction Transaction, TxReceipt Receipt)?> GetTransactionAsync(Hash32 id, CancellationToken cancellationToken = default)
    {
        var found = await _store.FindTransactionAsync(id, cancellationToken);
        return found is { } f ? (f.Tx, new TxReceipt(id, f.Height, f.Index)) : null;
    }

    public Task<MarketStatus> GetMarketStatusAsync(CancellationToken cancellationToken = default) => Read(MarketQueries.Status, cancellationToken);

    public Task<ProviderInfo?> GetProviderAsync(Address provider, CancellationToken cancellationToken = default) =>
        Read(s => MarketQueries.Provider(s, provider), cancellationToken);

    public Task<IReadOnlyList<ProviderInfo>> ListProvidersAsync(CancellationToken cancellationToken = default) => Read(MarketQueries.Providers, cancellationToken);

    public Task<DeploymentInfo?> GetDeploymentAsync(DeploymentId id, CancellationToken cancellationToken = default) =>
        Read(s => MarketQueries.Deployment(s, id), cancellationToken);

    public Task<IReadOnlyList<DeploymentInfo>> ListDeploymentsAsync(DeploymentQuery query, CancellationToken cancellationToken = default) =>
        Read(s => MarketQueries.Deployments(s, query), cancellationToken);

    public Task<IReadOnlyList<OrderInfo>> ListOpenOrdersAsync(CancellationToken cancellationToken = default) => Read(MarketQueries.OpenOrders, cancellationToken);

    public Task<IReadOnlyList<LeaseInfo>> ListLeasesAsync(LeaseQuery query, CancellationToken cancellationToken = default) =>
        Read(s => MarketQueries.Leases(s, query), cancellationToken);

    public Task<Governance.GovernanceInfo> GetGovernanceAsync(CancellationToken cancellationToken = default) =>
        Read(s => new Governance.GovernanceInfo(
            Governance.GovernedParameters.All.Select(p => (p.Name, p.Read(s.Params))).ToArray(),
            s.Treasury,
            s.Proposals.Values.Select(Governance.ProposalInfo.From).ToArray(),
            s.Tasks.Values.SelectMany(t => t.Releases.Select(r => (t.Id, r))).ToArray()), cancellationToken);

    public ValueTask DisposeAsync()
    {
        _store.Dispose();
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A block's time: now, but never before the block it follows (clocks step back; the chain's time must not).</summary>
    private long NextTimestamp() => Math.Max(_time.GetUtcNow().ToUnixTimeMilliseconds(), _headTimestamp);

    private async Task SealAsync(BlockContext context, List<SignedTransaction> included, List<Hash32> ids, CancellationToken cancellationToken)
    {
        var height = context.Height;
        var header = new BlockHeader(height, _headHash, context.Timestamp, BlockHeader.ComputeTxRoot(ids), StateHasher.Root(_state), included.Count);
        try
        {
            await _store.AppendAsync(new Block(header, included), ids, CancellationToken.None);
        }
        catch
        {
            // The block did not commit; the in-memory state must not keep its effects.
            await ReloadAsync(CancellationToken.None);
            throw;
        }
        _headHeight = height;
        _headHash = header.Hash;
        _headRoot = header.StateRoot;
        Volatile.Write(ref _headTimestamp, context.Timestamp);
    }

    private async Task ReloadAsync(CancellationToken cancellationToken)
    {
        var (state, head, hash, report) = await ReplayAsync(_store, _genesis, verifySignatures: false, cancellationToken);
        _state = state;
        _headHeight = head;
        _headHash = hash;
        _headRoot = report.HeadStateRoot;
        Volatile.Write(ref _headTimestamp, state.BlockTimestamp);
    }

    private async Task<T> Read<T>(Func<LedgerState, T> read, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return read(_state);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static TaskInfo ToInfo(LedgerState s, TaskState t) => new(t.Id, t.Creator, t.SpecHash, t.RewardPool, t.Escrow, t.Rounds, t.SettledRounds, t.Completed,
        t.MinStake, t.TrainersPerRound, t.ValidatorsPerRound, t.RejectBelow, t.ModelHash, [.. t.Trainers], [.. t.Validators])
    {
        Tournament = t.Tournament,
        Coordinator = t.Coordinator,
        Cancelled = t.Cancelled,
        Refunded = t.Refunded,
        AbandonHeight = t.Completed || t.Cancelled ? 0 : LivenessRules.AbandonedFrom(s, t),
    };

    private static async Task<(LedgerState State, ulong Head, Hash32 HeadHash, VerifyReport Report)> ReplayAsync(
        BlockStore store, Genesis genesis, bool verifySignatures, CancellationToken cancellationToken)
    {
        var state = LedgerState.FromGenesis(genesis);
        var previous = Hash32.Zero;
        ulong checkedBlocks = 0, checkedTxs = 0, head = 0;
        await foreach (var (header, storedHash, txs) in store.ReadBlocksAsync(0, cancellationToken))
        {
            VerifyReport Bad(string reason) => new(checkedBlocks, checkedTxs, header.Height, reason, StateHasher.Root(state));
            if (header.Hash != storedHash)
            {
                return (state, head, previous, Bad($"the stored hash {storedHash} is not the hash of the stored header ({header.Hash})"));
            }
            if (header.PreviousHash != previous)
            {
                return (state, head, previous, Bad($"previous_hash {header.PreviousHash} does not link to block {header.Height - 1} ({previous})"));
            }
            if (header.TxCount != txs.Count)
            {
                return (state, head, previous, Bad($"the header counts {header.TxCount} transactions, the store holds {txs.Count}"));
            }
            var ids = txs.Select(t => t.Tx.Digest(genesis.ChainId)).ToArray();
            if (header.Height > 0 && header.Timestamp < state.BlockTimestamp)
            {
                return (state, head, previous, Bad($"timestamp {header.Timestamp} is before the previous block's {state.BlockTimestamp}"));
            }
            if (header.Height > 0)
            {
                var context = new BlockContext(header.Height, previous, header.Timestamp);
                state.Height = header.Height;
                state.LastBlockHash = previous;
                StateMachine.BeginBlock(state, context);
                for (var i = 0; i < txs.Count; i++)
                {
                    try
                    {
                        StateMachine.Apply(state, txs[i], context, verifySignatures, ids[i]);
                    }
                    catch (LedgerException ex)
                    {
                        return (state, head, previous, Bad($"transaction {i} ({txs[i].Tx.TypeName} from {txs[i].Tx.From}, nonce {txs[i].Tx.Nonce}) is invalid: {ex.Message}"));
                    }
                    checkedTxs++;
                }
            }
            var txRoot = BlockHeader.ComputeTxRoot(ids);
            if (txRoot != header.TxRoot)
            {
                return (state, head, previous, Bad($"tx_root {header.TxRoot} does not match its transactions ({txRoot})"));
            }
            var root = StateHasher.Root(state);
            if (root != header.StateRoot)
            {
                return (state, head, previous, Bad($"state_root {header.StateRoot} does not match the replayed state ({root})"));
            }
            previous = header.Hash;
            head = header.Height;
            checkedBlocks++;
        }
        return (state, head, previous, new VerifyReport(checkedBlocks, checkedTxs, null, null, StateHasher.Root(state)));
    }
}
