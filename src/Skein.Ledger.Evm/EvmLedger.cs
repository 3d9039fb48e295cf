using System.Numerics;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.Contracts;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;
using Account = Nethereum.Web3.Accounts.Account;
using Skein.Ledger.Evm.Contracts;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;
using Transaction = Skein.Ledger.Transactions.Transaction;

namespace Skein.Ledger.Evm;

/// <summary>
/// The ledger on an EVM chain: <c>SkeinLedger.sol</c> holds the state and applies the rules; this class relays the
/// participants' signed transactions (paying the gas with its own key), decodes the contract's refusals into the
/// embedded ledger's <see cref="LedgerException"/>s, and reads the state through calls.
/// </summary>
/// <remarks>
/// Built so far: the token, transfers, stake (own, delegated, unbonding, commission), tasks and rounds with their
/// settlement. The market is not on this backend yet; its methods say so.
/// </remarks>
public sealed class EvmLedger : ILedger
{
    private const string Pending = "is not on the EVM backend yet (the market comes next)";

    private readonly Web3 _web3;
    private readonly SemaphoreSlim _relay = new(1, 1);
    private string? _picker;

    private EvmLedger(Web3 web3, string contract, ulong chainId)
    {
        _web3 = web3;
        ContractAddress = contract;
        ChainId = chainId;
    }

    public ulong ChainId { get; }

    /// <summary>Where SkeinLedger.sol lives on the chain.</summary>
    public string ContractAddress { get; }

    /// <summary>Deploys SkeinLedger.sol with <paramref name="genesis"/>'s allocations and unbonding period, paying gas with <paramref name="relayerKey"/>.</summary>
    public static async Task<EvmLedger> DeployAsync(Uri rpc, string relayerKey, Genesis genesis, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        ArgumentNullException.ThrowIfNull(genesis);
        if (genesis.Validate() is { } invalid)
        {
            throw new LedgerException(LedgerError.InvalidGenesis, invalid);
        }
        var web3 = await ConnectAsync(rpc, relayerKey, genesis.ChainId, cancellationToken);
        var accounts = genesis.Allocations.Select(a => a.Address.ToString()).ToArray();
        var amounts = genesis.Allocations.Select(a => (BigInteger)a.Balance).ToArray();
        var p = genesis.Params.Incentives;
        var deployment = new LedgerDeployment
        {
            Accounts = [.. accounts],
            Amounts = [.. amounts],
            UnbondingBlocks = genesis.Params.UnbondingBlocks,
            Incentives = new IncentivesTuple
            {
                TrainerShareBps = p.TrainerShareBps, SupermajorityBps = p.SupermajorityBps, AgreementTolerance = p.AgreementTolerance, TrainerSlashBps = p.TrainerSlashBps,
                ValidatorNoRevealSlashBps = p.ValidatorNoRevealSlashBps, EmissionPerRound = p.EmissionPerRound, HalvingRounds = p.HalvingRounds,
            },
        };
        var receipt = await web3.Eth.GetContractDeploymentHandler<LedgerDeployment>().SendRequestAndWaitForReceiptAsync(deployment, cancellationToken);
        if (receipt.Status?.Value != 1 || receipt.ContractAddress is null)
        {
            throw new InvalidOperationException($"deploying SkeinLedger failed in transaction {receipt.TransactionHash}");
        }
        return new EvmLedger(web3, receipt.ContractAddress, genesis.ChainId);
    }

    /// <summary>Uses a SkeinLedger.sol already deployed at <paramref name="contract"/>.</summary>
    public static async Task<EvmLedger> AttachAsync(Uri rpc, string relayerKey, string contract, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        var probe = new Web3(rpc.ToString());
        var chainId = (ulong)(await probe.Eth.ChainId.SendRequestAsync()).Value;
        var web3 = await ConnectAsync(rpc, relayerKey, chainId, cancellationToken);
        var code = await web3.Eth.GetCode.SendRequestAsync(contract);
        if (code is null or "0x")
        {
            throw new InvalidOperationException($"no contract at {contract} on chain {chainId} ({rpc})");
        }
        return new EvmLedger(web3, contract, chainId);
    }

    private static async Task<Web3> ConnectAsync(Uri rpc, string relayerKey, ulong chainId, CancellationToken cancellationToken)
    {
        var account = new Account(relayerKey, new BigInteger(chainId));
        var web3 = new Web3(account, rpc.ToString());
        var actual = (ulong)(await web3.Eth.ChainId.SendRequestAsync()).Value;
        cancellationToken.ThrowIfCancellationRequested();
        if (actual != chainId)
        {
            throw new LedgerException(LedgerError.WrongChain, $"chain_id: the ledger is chain {chainId}, the node at {rpc} serves chain {actual}");
        }
        return web3;
    }

    public async Task<TxReceipt> SubmitAsync(SignedTransaction transaction, CancellationToken cancellationToken = default) =>
        (await SubmitMeasuredAsync(transaction, cancellationToken)).Receipt;

    /// <summary>Relays a signed transaction and says how much gas the relayer paid for it.</summary>
    public async Task<(TxReceipt Receipt, ulong GasUsed)> SubmitMeasuredAsync(SignedTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var tx = transaction.Tx;
        if (transaction.ChainId is { } claimed && claimed != ChainId)
        {
            throw new LedgerException(LedgerError.WrongChain, $"chain_id: the transaction is for chain {claimed}, this ledger is chain {ChainId}");
        }
        var signature = transaction.Signature;
        await _relay.WaitAsync(cancellationToken);
        try
        {
            var receipt = tx switch
            {
                Transfer t => await SendAsync(new RelayTransfer { From = t.From.ToString(), TxNonce = t.Nonce, To = t.To.ToString(), Amount = t.Amount, Signature = signature }, tx, cancellationToken),
                Stake s => await SendAsync(new RelayStake { From = s.From.ToString(), TxNonce = s.Nonce, Role = (byte)s.Role, Amount = s.Amount, Signature = signature }, tx, cancellationToken),
                Unstake u => await SendAsync(new RelayUnstake { From = u.From.ToString(), TxNonce = u.Nonce, Role = (byte)u.Role, Amount = u.Amount, Signature = signature }, tx, cancellationToken),
                DelegateStake d => await SendAsync(new RelayDelegate
                {
                    From = d.From.ToString(), TxNonce = d.Nonce, Operator = d.Operator.ToString(), Role = (byte)d.Role, Amount = d.Amount, Signature = signature,
                }, tx, cancellationToken),
                UndelegateStake d => await SendAsync(new RelayUndelegate
                {
                    From = d.From.ToString(), TxNonce = d.Nonce, Operator = d.Operator.ToString(), Role = (byte)d.Role, Amount = d.Amount, Signature = signature,
                }, tx, cancellationToken),
                SetCommission c => await SendAsync(new RelaySetCommission { From = c.From.ToString(), TxNonce = c.Nonce, Bps = checked((ushort)c.CommissionBps), Signature = signature }, tx, cancellationToken),
                CreateTask c => await SendAsync(new RelayCreateTask
                {
                    From = c.From.ToString(), TxNonce = c.Nonce, SpecHash = c.SpecHash.Bytes.ToArray(), RewardPool = c.RewardPool, Rounds = c.Rounds, MinStake = c.MinStake,
                    TrainersPerRound = c.TrainersPerRound, ValidatorsPerRound = c.ValidatorsPerRound, RejectBelow = c.RejectBelow, Signature = signature,
                }, tx, cancellationToken),
                JoinTask j => await SendAsync(new RelayJoinTask { From = j.From.ToString(), TxNonce = j.Nonce, TaskId = j.TaskId, Role = (byte)j.Role, Signature = signature }, tx, cancellationToken),
                OpenRound o => await SendAsync(new RelayOpenRound
                {
                    From = o.From.ToString(), TxNonce = o.Nonce, TaskId = o.TaskId, Round = o.Round, ModelHash = o.ModelHash.Bytes.ToArray(), Signature = signature,
                }, tx, cancellationToken),
                SubmitUpdate u => await SendAsync(new RelaySubmitUpdate
                {
                    From = u.From.ToString(), TxNonce = u.Nonce, TaskId = u.TaskId, Round = u.Round, UpdateHash = u.UpdateHash.Bytes.ToArray(), Samples = u.Samples, Signature = signature,
                }, tx, cancellationToken),
                CloseTraining c => await SendAsync(new RelayCloseTraining { From = c.From.ToString(), TxNonce = c.Nonce, TaskId = c.TaskId, Round = c.Round, Signature = signature }, tx, cancellationToken),
                CommitScores c => await SendAsync(new RelayCommitScores
                {
                    From = c.From.ToString(), TxNonce = c.Nonce, TaskId = c.TaskId, Round = c.Round, Commitment = c.Commitment.Bytes.ToArray(), Signature = signature,
                }, tx, cancellationToken),
                CloseCommits c => await SendAsync(new RelayCloseCommits { From = c.From.ToString(), TxNonce = c.Nonce, TaskId = c.TaskId, Round = c.Round, Signature = signature }, tx, cancellationToken),
                RevealScores r => await SendAsync(new RelayRevealScores
                {
                    From = r.From.ToString(), TxNonce = r.Nonce, TaskId = r.TaskId, Round = r.Round, Scores = [.. r.Scores.Select(x => new BigInteger(x))],
                    Salt = r.Salt.Bytes.ToArray(), Signature = signature,
                }, tx, cancellationToken),
                FinalizeRound f => await SendAsync(new RelayFinalizeRound
                {
                    From = f.From.ToString(), TxNonce = f.Nonce, TaskId = f.TaskId, Round = f.Round, NewModelHash = f.NewModelHash.Bytes.ToArray(), Signature = signature,
                }, tx, cancellationToken),
                _ => throw new LedgerException(LedgerError.InvalidParameter, $"type: {tx.TypeName} {Pending}"),
            };
            return (new TxReceipt(tx.Digest(ChainId), (ulong)receipt.BlockNumber.Value, (int)receipt.TransactionIndex.Value), (ulong)receipt.GasUsed.Value);
        }
        finally
        {
            _relay.Release();
        }
    }

    private async Task<TransactionReceipt> SendAsync<TMessage>(TMessage message, Transaction tx, CancellationToken cancellationToken)
        where TMessage : FunctionMessage, new()
    {
        var handler = _web3.Eth.GetContractTransactionHandler<TMessage>();
        try
        {
            // Estimating runs the transaction against the head state: a refusal reverts here, with its reason, and costs no gas.
            message.Gas = await handler.EstimateGasAsync(ContractAddress, message);
            var receipt = await handler.SendRequestAndWaitForReceiptAsync(ContractAddress, message, cancellationToken);
            if (receipt.Status?.Value != 1)
            {
                throw new LedgerException(LedgerError.InvalidParameter, $"{tx.TypeName}: reverted on chain in transaction {receipt.TransactionHash}");
            }
            return receipt;
        }
        catch (SmartContractCustomErrorRevertException revert)
        {
            throw EvmRefusals.Decode(revert, tx, ChainId);
        }
    }

    public async Task<LedgerStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var block = await _web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(BlockParameter.CreateLatest());
        var at = new BlockParameter(block.Number);
        var supply = await QueryAsync<TotalSupplyQuery, BigInteger>(new TotalSupplyQuery(), at);
        var staked = await QueryAsync<StakedQuery, BigInteger>(new StakedQuery(), at);
        var emitted = await QueryAsync<EmittedQuery, BigInteger>(new EmittedQuery(), at);
        var burned = await QueryAsync<BurnedQuery, BigInteger>(new BurnedQuery(), at);
        cancellationToken.ThrowIfCancellationRequested();
        return new LedgerStatus(ChainId, (ulong)block.Number.Value, Hash32.Parse(block.BlockHash), Hash32.Parse(block.StateRoot),
            (UInt128)(supply - emitted + burned), (UInt128)emitted, (UInt128)burned, 0)
        {
            // Every token is an ERC-20 token of the contract, so what is held anywhere is its total supply.
            Held = (UInt128)supply,
            Timestamp = (long)block.Timestamp.Value * 1000,
            Staked = (UInt128)staked,
        };
    }

    public async Task<ulong> GetNonceAsync(Address account, CancellationToken cancellationToken = default) =>
        await QueryAsync<NoncesQuery, ulong>(new NoncesQuery { Account = account.ToString() });

    public async Task<UInt128> GetBalanceAsync(Address account, CancellationToken cancellationToken = default) =>
        (UInt128)await QueryAsync<BalanceOfQuery, BigInteger>(new BalanceOfQuery { Account = account.ToString() });

    public async Task<StakeInfo> GetStakeAsync(Address operatorAddress, Role role, CancellationToken cancellationToken = default)
    {
        var stake = await _web3.Eth.GetContractQueryHandler<StakeOfQuery>()
            .QueryDeserializingToObjectAsync<StakeOfOutput>(new StakeOfQuery { Operator = operatorAddress.ToString(), Role = (byte)role }, ContractAddress);
        var commission = await QueryAsync<CommissionQuery, ushort>(new CommissionQuery { Account = operatorAddress.ToString() });
        // The contract keeps delegations in a mapping, which cannot be listed; the list comes with the event index.
        return new StakeInfo(operatorAddress, role, (UInt128)stake.Self, (UInt128)stake.Delegated, commission, []);
    }

    /// <summary>What <paramref name="delegator"/> delegated to <paramref name="operatorAddress"/> in <paramref name="role"/>.</summary>
    public async Task<UInt128> GetDelegationAsync(Address delegator, Address operatorAddress, Role role, CancellationToken cancellationToken = default) =>
        (UInt128)await QueryAsync<DelegationQuery, BigInteger>(new DelegationQuery { Delegator = delegator.ToString(), Operator = operatorAddress.ToString(), Role = (byte)role });

    public async Task<AccountInfo> GetAccountAsync(Address account, CancellationToken cancellationToken = default)
    {
        var balance = await GetBalanceAsync(account, cancellationToken);
        var nonce = await GetNonceAsync(account, cancellationToken);
        var stakes = new[] { await GetStakeAsync(account, Role.Trainer, cancellationToken), await GetStakeAsync(account, Role.Validator, cancellationToken) };
        var unbonding = await _web3.Eth.GetContractQueryHandler<UnbondingsQuery>()
            .QueryDeserializingToObjectAsync<UnbondingsOutput>(new UnbondingsQuery { Account = account.ToString() }, ContractAddress);
        var head = (ulong)(await _web3.Eth.Blocks.GetBlockNumber.SendRequestAsync()).Value;
        // Matured unbondings already count in the balance (balanceOf adds them), as the embedded ledger releases them.
        var pending = unbonding.Items.Where(u => u.ReleaseBlock > head).Select(u => new UnbondingInfo((UInt128)u.Amount, u.ReleaseBlock)).ToArray();
        return new AccountInfo(account, balance, nonce, stakes.Where(s => s.Self > 0 || s.Delegated > 0).ToArray(), [], pending);
    }

    private Task<TOut> QueryAsync<TQuery, TOut>(TQuery query, BlockParameter? at = null)
        where TQuery : FunctionMessage, new() =>
        _web3.Eth.GetContractQueryHandler<TQuery>().QueryAsync<TOut>(ContractAddress, query, at);

    public async Task<TaskInfo?> GetTaskAsync(ulong taskId, CancellationToken cancellationToken = default)
    {
        var next = await QueryAsync<NextTaskIdQuery, ulong>(new NextTaskIdQuery());
        if (taskId == 0 || taskId >= next)
        {
            return null;
        }
        var o = await _web3.Eth.GetContractQueryHandler<TaskOfQuery>().QueryDeserializingToObjectAsync<TaskOfOutput>(new TaskOfQuery { TaskId = taskId }, ContractAddress);
        cancellationToken.ThrowIfCancellationRequested();
        var t = o.Task;
        // The contract lists members in joining order; the embedded ledger sorts them.
        static Address[] Sorted(IEnumerable<string> members) => members.Select(m => Address.Parse(m)).Order().ToArray();
        return new TaskInfo(taskId, Address.Parse(t.Creator), new Hash32(t.SpecHash), (UInt128)t.RewardPool, (UInt128)t.Escrow, t.Rounds, t.SettledRounds, t.Completed,
            (UInt128)t.MinStake, t.TrainersPerRound, t.ValidatorsPerRound, t.RejectBelow, new Hash32(t.ModelHash), Sorted(o.Trainers), Sorted(o.Validators));
    }

    public async Task<IReadOnlyList<TaskInfo>> ListTasksAsync(CancellationToken cancellationToken = default)
    {
        var next = await QueryAsync<NextTaskIdQuery, ulong>(new NextTaskIdQuery());
        var tasks = new List<TaskInfo>();
        for (var id = 1UL; id < next; id++)
        {
            tasks.Add((await GetTaskAsync(id, cancellationToken))!);
        }
        return tasks;
    }

    /// <summary>
    /// A round as the contract holds it. Outcomes and movements are not read back yet (they are in the settlement's
    /// events, which the event index will serve); scores are.
    /// </summary>
    public async Task<RoundInfo?> GetRoundAsync(ulong taskId, uint round, CancellationToken cancellationToken = default)
    {
        var o = await _web3.Eth.GetContractQueryHandler<RoundOfQuery>().QueryDeserializingToObjectAsync<RoundOfOutput>(new RoundOfQuery { TaskId = taskId, Round = round }, ContractAddress);
        if (o.Data.Phase == 0)
        {
            return null;
        }
        var scores = new Dictionary<Address, IReadOnlyList<ulong>>();
        foreach (var v in o.Revealers)
        {
            var s = await QueryAsync<ScoresOfQuery, List<BigInteger>>(new ScoresOfQuery { TaskId = taskId, Round = round, Validator = v });
            scores[Address.Parse(v)] = s.Select(x => (ulong)x).ToArray();
        }
        cancellationToken.ThrowIfCancellationRequested();
        static Address[] Addresses(IEnumerable<string> list) => list.Select(a => Address.Parse(a)).ToArray();
        var d = o.Data;
        return new RoundInfo(taskId, round, (RoundPhase)d.Phase, new Hash32(d.Seed), new Hash32(d.ModelHash), new Hash32(d.NewModelHash), (UInt128)d.Reward,
            Addresses(o.PickedTrainers), Addresses(o.PickedValidators), o.Updates.Select(u => new UpdateEntry(Address.Parse(u.Trainer), new Hash32(u.UpdateHash), u.Samples)).ToArray(),
            [.. Addresses(o.Committers).Order()], [.. Addresses(o.Revealers).Order()], [], [])
        {
            Scores = scores,
            PhaseTimes = d.PhaseTimes.Select(t => (long)t).ToArray(),
        };
    }

    public async Task<IReadOnlyList<RoundInfo>> GetRoundsAsync(ulong taskId, uint from, uint to, CancellationToken cancellationToken = default)
    {
        var rounds = new List<RoundInfo>();
        for (var r = Math.Max(from, 1); r <= to; r++)
        {
            if (await GetRoundAsync(taskId, r, cancellationToken) is not { } info)
            {
                break;
            }
            rounds.Add(info);
        }
        return rounds;
    }

    /// <summary>The gas limit of the chain's newest block: what one transaction can use at most.</summary>
    public async Task<ulong> GetBlockGasLimitAsync(CancellationToken cancellationToken = default)
    {
        var block = await _web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(BlockParameter.CreateLatest());
        cancellationToken.ThrowIfCancellationRequested();
        return (ulong)block.GasLimit.Value;
    }

    /// <summary>The contract's <c>pick</c>: what it would select from <paramref name="eligible"/> (sorted) with <paramref name="seed"/>.</summary>
    public async Task<IReadOnlyList<Address>> PickAsync(IReadOnlyList<Address> eligible, uint count, Hash32 seed, string purpose, CancellationToken cancellationToken = default)
    {
        // SkeinPick holds no state: deployed once per ledger object, on first use, by the relayer.
        if (_picker is null)
        {
            var receipt = await _web3.Eth.DeployContract.SendRequestAndWaitForReceiptAsync(ContractArtifact.Load("SkeinPick").Abi, ContractArtifact.Load("SkeinPick").Bytecode,
                _web3.TransactionManager.Account.Address, new HexBigInteger(1_000_000), cancellationToken);
            _picker = receipt.ContractAddress;
        }
        var picked = await _web3.Eth.GetContractQueryHandler<PickQuery>().QueryAsync<List<string>>(_picker,
            new PickQuery { Eligible = [.. eligible.Select(a => a.ToString())], Count = count, Seed = seed.Bytes.ToArray(), Purpose = purpose });
        cancellationToken.ThrowIfCancellationRequested();
        return picked.Select(a => Address.Parse(a)).ToArray();
    }

    public async Task<BlockInfo?> GetBlockAsync(ulong height, CancellationToken cancellationToken = default)
    {
        var block = await _web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(new HexBigInteger(height));
        return block is null ? null : new BlockInfo((ulong)block.Number.Value, Hash32.Parse(block.BlockHash), Hash32.Parse(block.ParentHash), (long)block.Timestamp.Value * 1000,
            Hash32.Parse(block.TransactionsRoot), Hash32.Parse(block.StateRoot), block.TransactionHashes.Length, block.TransactionHashes.Select(h => Hash32.Parse(h)).ToArray());
    }

    public Task<(SignedTransaction Transaction, TxReceipt Receipt)?> GetTransactionAsync(Hash32 id, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"looking a transaction up by its digest {Pending}");

    public Task<MarketStatus> GetMarketStatusAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException($"the market {Pending}");

    public Task<ProviderInfo?> GetProviderAsync(Address provider, CancellationToken cancellationToken = default) => throw new NotSupportedException($"the market {Pending}");

    public Task<IReadOnlyList<ProviderInfo>> ListProvidersAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException($"the market {Pending}");

    public Task<DeploymentInfo?> GetDeploymentAsync(DeploymentId id, CancellationToken cancellationToken = default) => throw new NotSupportedException($"the market {Pending}");

    public Task<IReadOnlyList<DeploymentInfo>> ListDeploymentsAsync(DeploymentQuery query, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"the market {Pending}");

    public Task<IReadOnlyList<OrderInfo>> ListOpenOrdersAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException($"the market {Pending}");

    public Task<IReadOnlyList<LeaseInfo>> ListLeasesAsync(LeaseQuery query, CancellationToken cancellationToken = default) => throw new NotSupportedException($"the market {Pending}");

    public ValueTask DisposeAsync()
    {
        _relay.Dispose();
        return ValueTask.CompletedTask;
    }
}
