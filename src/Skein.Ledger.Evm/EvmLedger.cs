using System.Numerics;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.Contracts;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;
using Account = Nethereum.Web3.Accounts.Account;
using Skein.Ledger.Crypto;
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
/// Four contracts: <c>SkeinLedger.sol</c> (token, nonces and signatures, stake), <c>SkeinTasks.sol</c> (tasks, rounds,
/// settlement), <c>SkeinMarket.sol</c> (the compute market) and <c>SkeinGovernance.sol</c> (proposals, treasury), linked once at deployment.
/// </remarks>
public sealed partial class EvmLedger : ILedger
{
    private readonly Web3 _web3;
    private readonly EvmLedgerOptions _options;
    private readonly SemaphoreSlim _relay = new(1, 1);
    // A round settled deep enough (the options' confirmations) never changes: read once, served from memory after.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(ulong Task, uint Round), RoundInfo> _settled = new();
    private string? _picker;

    private EvmLedger(Web3 web3, string contract, string tasks, string market, string governance, ulong chainId, EvmLedgerOptions options)
    {
        GovernanceAddress = governance;
        _web3 = web3;
        _options = options;
        ContractAddress = contract;
        TasksAddress = tasks;
        MarketAddress = market;
        ChainId = chainId;
    }

    public ulong ChainId { get; }

    /// <summary>Where SkeinLedger.sol (token, nonces, stake) lives on the chain.</summary>
    public string ContractAddress { get; }

    /// <summary>Where SkeinTasks.sol (tasks, rounds, settlement) lives on the chain.</summary>
    public string TasksAddress { get; }

    /// <summary>The EVM address that pays for relayed transactions; null when this ledger only reads.</summary>
    public string? Relayer => _web3.TransactionManager?.Account?.Address;

    /// <summary>Deploys SkeinLedger.sol and SkeinTasks.sol with <paramref name="genesis"/>'s allocations and parameters, paying gas with <paramref name="relayer"/>.</summary>
    public static Task<EvmLedger> DeployAsync(Uri rpc, LedgerKey relayer, Genesis genesis, EvmLedgerOptions? options = null, CancellationToken cancellationToken = default) =>
        DeployAsync(rpc, RelayerKey(relayer), genesis, options, cancellationToken);

    /// <summary>Deploys SkeinLedger.sol and SkeinTasks.sol with <paramref name="genesis"/>'s allocations and parameters, paying gas with <paramref name="relayerKey"/> (hex).</summary>
    public static Task<EvmLedger> DeployAsync(Uri rpc, string relayerKey, Genesis genesis, CancellationToken cancellationToken = default) =>
        DeployAsync(rpc, relayerKey, genesis, null, cancellationToken);

    /// <summary>Deploys SkeinLedger.sol and SkeinTasks.sol with <paramref name="genesis"/>'s allocations and parameters, paying gas with <paramref name="relayerKey"/> (hex).</summary>
    public static async Task<EvmLedger> DeployAsync(Uri rpc, string relayerKey, Genesis genesis, EvmLedgerOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        ArgumentNullException.ThrowIfNull(genesis);
        if (genesis.Validate() is { } invalid)
        {
            throw new LedgerException(LedgerError.InvalidGenesis, invalid);
        }
        options ??= new EvmLedgerOptions();
        await ProbeChainIdAsync(rpc, options);
        var web3 = await ConnectAsync(rpc, relayerKey, genesis.ChainId, options, cancellationToken);
        var accounts = genesis.Allocations.Select(a => a.Address.ToString()).ToArray();
        var amounts = genesis.Allocations.Select(a => (BigInteger)a.Balance).ToArray();
        var p = genesis.Params.Incentives;
        var core = await web3.Eth.GetContractDeploymentHandler<LedgerDeployment>().SendRequestAndWaitForReceiptAsync(new LedgerDeployment
        {
            Accounts = [.. accounts],
            Amounts = [.. amounts],
            Chain = ChainParams(genesis.Params),
        }, cancellationToken);
        Deployed(core, "SkeinLedger");
        // SkeinTasks runs SkeinTasksLiveness's code in its own storage; both know the same ledger.
        var extension = await web3.Eth.GetContractDeploymentHandler<LivenessDeployment>().SendRequestAndWaitForReceiptAsync(new LivenessDeployment
        {
            Ledger = core.ContractAddress,
        }, cancellationToken);
        Deployed(extension, "SkeinTasksLiveness");
        var l = genesis.Params.LivenessRules;
        var tasks = await web3.Eth.GetContractDeploymentHandler<TasksDeployment>().SendRequestAndWaitForReceiptAsync(new TasksDeployment
        {
            Ledger = core.ContractAddress,
            Extension = extension.ContractAddress,
            Liveness = new LivenessRulesTuple { TrainingBlocks = l.TrainingBlocks, CommitBlocks = l.CommitBlocks, RevealBlocks = l.RevealBlocks, AbandonBlocks = l.AbandonBlocks },
            Incentives = new IncentivesTuple
            {
                TrainerShareBps = p.TrainerShareBps, SupermajorityBps = p.SupermajorityBps, AgreementTolerance = p.AgreementTolerance, TrainerSlashBps = p.TrainerSlashBps,
                ValidatorNoRevealSlashBps = p.ValidatorNoRevealSlashBps, EmissionPerRound = p.EmissionPerRound, HalvingRounds = p.HalvingRounds,
            },
        }, cancellationToken);
        Deployed(tasks, "SkeinTasks");
        var m = genesis.Params.MarketRules;
        var market = await web3.Eth.GetContractDeploymentHandler<MarketDeployment>().SendRequestAndWaitForReceiptAsync(new MarketDeployment
        {
            Ledger = core.ContractAddress, Denom = m.Denom, BaseUnitsPerDenomUnit = m.BaseUnitsPerDenomUnit, BlockIntervalMs = m.BlockIntervalMs,
            MinDeposit = m.MinDeposit, BidDeposit = m.BidDeposit, BidTimeoutBlocks = m.BidTimeoutBlocks, GenesisMs = (ulong)Math.Max(0, genesis.Timestamp),
        }, cancellationToken);
        Deployed(market, "SkeinMarket");
        var governance = await web3.Eth.GetContractDeploymentHandler<GovernanceDeployment>().SendRequestAndWaitForReceiptAsync(new GovernanceDeployment
        {
            Ledger = core.ContractAddress, Rules = Rules(genesis.Params.GovernanceRules),
        }, cancellationToken);
        Deployed(governance, "SkeinGovernance");
        // SkeinLedger takes the other contracts once, from its deployer; after that nobody can change them.
        var link = await web3.Eth.GetContractTransactionHandler<LinkFunction>().SendRequestAndWaitForReceiptAsync(core.ContractAddress,
            new LinkFunction { Tasks = tasks.ContractAddress, Market = market.ContractAddress, Governance = governance.ContractAddress }, cancellationToken);
        if (link.Status?.Value != 1)
        {
            throw new InvalidOperationException($"linking SkeinTasks, SkeinMarket and SkeinGovernance to SkeinLedger failed in transaction {link.TransactionHash}");
        }
        return new EvmLedger(web3, core.ContractAddress, tasks.ContractAddress, market.ContractAddress, governance.ContractAddress, genesis.ChainId, options);
    }

    private static void Deployed(TransactionReceipt receipt, string contract)
    {
        if (receipt.Status?.Value != 1 || receipt.ContractAddress is null)
        {
            throw new InvalidOperationException($"deploying {contract} failed in transaction {receipt.TransactionHash}");
        }
    }

    /// <summary>Uses a SkeinLedger.sol already deployed at <paramref name="contract"/>, relaying with <paramref name="relayer"/>.</summary>
    public static Task<EvmLedger> AttachAsync(Uri rpc, LedgerKey relayer, string contract, EvmLedgerOptions? options = null, CancellationToken cancellationToken = default) =>
        AttachAsync(rpc, RelayerKey(relayer), contract, options, cancellationToken);

    /// <summary>Uses a SkeinLedger.sol already deployed at <paramref name="contract"/>, relaying with <paramref name="relayerKey"/> (hex).</summary>
    public static Task<EvmLedger> AttachAsync(Uri rpc, string relayerKey, string contract, CancellationToken cancellationToken = default) =>
        AttachAsync(rpc, relayerKey, contract, null, cancellationToken);

    /// <summary>Reads a SkeinLedger.sol deployed at <paramref name="contract"/> without a key: every read works, submitting is refused.</summary>
    public static Task<EvmLedger> ReadAsync(Uri rpc, string contract, EvmLedgerOptions? options = null, CancellationToken cancellationToken = default) =>
        AttachAsync(rpc, (string?)null, contract, options, cancellationToken);

    /// <summary>Uses a SkeinLedger.sol already deployed at <paramref name="contract"/>; without <paramref name="relayerKey"/> it only reads.</summary>
    public static async Task<EvmLedger> AttachAsync(Uri rpc, string? relayerKey, string contract, EvmLedgerOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        ArgumentException.ThrowIfNullOrEmpty(contract);
        if (!Nethereum.Util.AddressUtil.Current.IsValidEthereumAddressHexFormat(contract))
        {
            throw new ArgumentException($"contract: '{contract}' is not an address (0x and 40 hex digits)");
        }
        options ??= new EvmLedgerOptions();
        var chainId = await ProbeChainIdAsync(rpc, options);
        var web3 = await ConnectAsync(rpc, relayerKey, chainId, options, cancellationToken);
        var code = await web3.Eth.GetCode.SendRequestAsync(contract);
        if (code is null or "0x")
        {
            throw new ArgumentException($"contract: no contract at {contract} on chain {chainId} ({rpc})");
        }
        string tasks;
        string market;
        string governance;
        try
        {
            tasks = await web3.Eth.GetContractQueryHandler<TasksQuery>().QueryAsync<string>(contract, new TasksQuery());
            market = await web3.Eth.GetContractQueryHandler<MarketQuery>().QueryAsync<string>(contract, new MarketQuery());
            governance = await web3.Eth.GetContractQueryHandler<GovernanceQuery>().QueryAsync<string>(contract, new GovernanceQuery());
        }
        catch (Exception ex) when (ex is SmartContractRevertException or SmartContractCustomErrorRevertException or Nethereum.JsonRpc.Client.RpcResponseException)
        {
            throw new ArgumentException($"contract: {contract} on chain {chainId} is not a SkeinLedger ({ex.Message})", ex);
        }
        if (tasks is null || new BigInteger(Convert.FromHexString(tasks[2..]), isUnsigned: true, isBigEndian: true).IsZero)
        {
            throw new ArgumentException($"contract: the SkeinLedger at {contract} has no SkeinTasks linked yet");
        }
        return new EvmLedger(web3, contract, tasks, market, governance, chainId, options);
    }

    private static string RelayerKey(LedgerKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> secret = stackalloc byte[LedgerKey.PrivateKeyLength];
        try
        {
            key.ExportPrivateKey(secret);
            return Convert.ToHexStringLower(secret);
        }
        finally
        {
            secret.Clear();
        }
    }

    /// <summary>The chain id the node serves; a node that never answers is an error naming the URL (waited out for at most 10 s).</summary>
    private static async Task<ulong> ProbeChainIdAsync(Uri rpc, EvmLedgerOptions options)
    {
        var probe = new Web3(rpc.ToString());
        probe.Client.OverridingRequestInterceptor = new RpcRetry(TimeSpan.FromTicks(Math.Min(options.RetryFor.Ticks, TimeSpan.FromSeconds(10).Ticks)));
        try
        {
            return (ulong)(await probe.Eth.ChainId.SendRequestAsync()).Value;
        }
        catch (Exception ex) when (RpcRetry.Unreachable(ex))
        {
            throw new ArgumentException($"rpc: no JSON-RPC node answers at {rpc} ({(ex.InnerException ?? ex).Message})", ex);
        }
    }

    private static async Task<Web3> ConnectAsync(Uri rpc, string? relayerKey, ulong chainId, EvmLedgerOptions options, CancellationToken cancellationToken)
    {
        var web3 = relayerKey is null ? new Web3(rpc.ToString()) : new Web3(new Account(relayerKey, new BigInteger(chainId)), rpc.ToString());
        // A node that restarts, or a dropped connection, is waited out for a while instead of failing the caller.
        web3.Client.OverridingRequestInterceptor = new RpcRetry(options.RetryFor);
        web3.TransactionManager.TransactionReceiptService = new Nethereum.RPC.TransactionReceipts.TransactionReceiptPollingService(web3.TransactionManager, (int)options.ReceiptPoll.TotalMilliseconds);
        var actual = (ulong)(await web3.Eth.ChainId.SendRequestAsync()).Value;
        cancellationToken.ThrowIfCancellationRequested();
        if (actual != chainId)
        {
            throw new LedgerException(LedgerError.WrongChain, $"chain_id: the ledger is chain {chainId}, the node at {rpc} serves chain {actual}");
        }
        return web3;
    }

    /// <summary>The settlement's parameters, as the tasks contract was deployed with them.</summary>
    public async Task<Skein.Ledger.Incentives.IncentiveParams> GetIncentivesAsync(CancellationToken cancellationToken = default)
    {
        var o = await _web3.Eth.GetContractQueryHandler<IncentivesQuery>().QueryDeserializingToObjectAsync<IncentivesOutput>(new IncentivesQuery(), TasksAddress);
        cancellationToken.ThrowIfCancellationRequested();
        var i = o.Incentives;
        return new Skein.Ledger.Incentives.IncentiveParams(i.TrainerShareBps, i.SupermajorityBps, i.AgreementTolerance, i.TrainerSlashBps, i.ValidatorNoRevealSlashBps,
            (UInt128)i.EmissionPerRound, i.HalvingRounds);
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
        if (Relayer is null)
        {
            throw new InvalidOperationException("this EVM ledger was opened to read only (no relayer key): it cannot submit");
        }
        var signature = transaction.Signature;
        await _relay.WaitAsync(cancellationToken);
        try
        {
            TransactionReceipt receipt;
            try
            {
                receipt = await RelayAsync(tx, signature, cancellationToken);
            }
            catch (Exception ex) when ((ex is not LedgerException and not OperationCanceledException && RpcRetry.Unreachable(ex)) || ex is Nethereum.JsonRpc.Client.RpcResponseException)
            {
                // The node may have taken the transaction before the connection dropped (or was asked twice by a
                // retry): it counts if the contract applied its digest, and the contract applies a digest once.
                receipt = await AppliedReceiptAsync(tx.Digest(ChainId)) ?? throw new InvalidOperationException($"{tx.TypeName}: the node did not take the transaction: {ex.Message}", ex);
            }
            await ConfirmAsync((ulong)receipt.BlockNumber.Value, cancellationToken);
            return (new TxReceipt(tx.Digest(ChainId), (ulong)receipt.BlockNumber.Value, (int)receipt.TransactionIndex.Value), (ulong)receipt.GasUsed.Value);
        }
        finally
        {
            _relay.Release();
        }
    }

    /// <summary>The receipt of the EVM transaction that applied the Skein transaction <paramref name="digest"/>, if one did.</summary>
    private async Task<TransactionReceipt?> AppliedReceiptAsync(Hash32 digest)
    {
        var log = await AppliedLogAsync(digest);
        return log is null ? null : await _web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(log.Log.TransactionHash);
    }

    /// <summary>Returns once <paramref name="block"/> is <see cref="EvmLedgerOptions.Confirmations"/> deep (itself counted).</summary>
    private async Task ConfirmAsync(ulong block, CancellationToken cancellationToken)
    {
        if (_options.Confirmations <= 1)
        {
            return;
        }
        var target = block + (ulong)_options.Confirmations - 1;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConfirmationTimeout);
        try
        {
            while ((ulong)(await _web3.Eth.Blocks.GetBlockNumber.SendRequestAsync()).Value < target)
            {
                await Task.Delay(_options.ReceiptPoll, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"block {block} did not reach {_options.Confirmations} confirmations within {_options.ConfirmationTimeout.TotalSeconds:0} s");
        }
    }

    private async Task<TransactionReceipt> RelayAsync(Transaction tx, byte[] signature, CancellationToken cancellationToken)
    {
            return tx switch
            {
                Transfer t => await SendAsync(ContractAddress, new RelayTransfer { From = t.From.ToString(), TxNonce = t.Nonce, To = t.To.ToString(), Amount = t.Amount, Signature = signature }, tx, cancellationToken),
                Stake s => await SendAsync(ContractAddress, new RelayStake { From = s.From.ToString(), TxNonce = s.Nonce, Role = (byte)s.Role, Amount = s.Amount, Signature = signature }, tx, cancellationToken),
                Unstake u => await SendAsync(ContractAddress, new RelayUnstake { From = u.From.ToString(), TxNonce = u.Nonce, Role = (byte)u.Role, Amount = u.Amount, Signature = signature }, tx, cancellationToken),
                DelegateStake d => await SendAsync(ContractAddress, new RelayDelegate
                {
                    From = d.From.ToString(), TxNonce = d.Nonce, Operator = d.Operator.ToString(), Role = (byte)d.Role, Amount = d.Amount, Signature = signature,
                }, tx, cancellationToken),
                UndelegateStake d => await SendAsync(ContractAddress, new RelayUndelegate
                {
                    From = d.From.ToString(), TxNonce = d.Nonce, Operator = d.Operator.ToString(), Role = (byte)d.Role, Amount = d.Amount, Signature = signature,
                }, tx, cancellationToken),
                SetCommission c => await SendAsync(ContractAddress, new RelaySetCommission { From = c.From.ToString(), TxNonce = c.Nonce, Bps = checked((ushort)c.CommissionBps), Signature = signature }, tx, cancellationToken),
                CreateTask c => await SendAsync(TasksAddress, new RelayCreateTask
                {
                    From = c.From.ToString(), TxNonce = c.Nonce, SpecHash = c.SpecHash.Bytes.ToArray(), RewardPool = c.RewardPool, Rounds = c.Rounds, MinStake = c.MinStake,
                    TrainersPerRound = c.TrainersPerRound, ValidatorsPerRound = c.ValidatorsPerRound, RejectBelow = c.RejectBelow, Signature = signature,
                }, tx, cancellationToken),
                JoinTask j => await SendAsync(TasksAddress, new RelayJoinTask { From = j.From.ToString(), TxNonce = j.Nonce, TaskId = j.TaskId, Role = (byte)j.Role, Signature = signature }, tx, cancellationToken),
                OpenRound o => await SendAsync(TasksAddress, new RelayOpenRound
                {
                    From = o.From.ToString(), TxNonce = o.Nonce, TaskId = o.TaskId, Round = o.Round, ModelHash = o.ModelHash.Bytes.ToArray(), Signature = signature,
                }, tx, cancellationToken),
                SubmitUpdate u => await SendAsync(TasksAddress, new RelaySubmitUpdate
                {
                    From = u.From.ToString(), TxNonce = u.Nonce, TaskId = u.TaskId, Round = u.Round, UpdateHash = u.UpdateHash.Bytes.ToArray(), Samples = u.Samples, Signature = signature,
                }, tx, cancellationToken),
                CloseTraining c => await SendAsync(TasksAddress, new RelayCloseTraining { From = c.From.ToString(), TxNonce = c.Nonce, TaskId = c.TaskId, Round = c.Round, Signature = signature }, tx, cancellationToken),
                CommitScores c => await SendAsync(TasksAddress, new RelayCommitScores
                {
                    From = c.From.ToString(), TxNonce = c.Nonce, TaskId = c.TaskId, Round = c.Round, Commitment = c.Commitment.Bytes.ToArray(), Signature = signature,
                }, tx, cancellationToken),
                CloseCommits c => await SendAsync(TasksAddress, new RelayCloseCommits { From = c.From.ToString(), TxNonce = c.Nonce, TaskId = c.TaskId, Round = c.Round, Signature = signature }, tx, cancellationToken),
                RevealScores r => await SendAsync(TasksAddress, new RelayRevealScores
                {
                    From = r.From.ToString(), TxNonce = r.Nonce, TaskId = r.TaskId, Round = r.Round, Scores = [.. r.Scores.Select(x => new BigInteger(x))],
                    Salt = r.Salt.Bytes.ToArray(), Signature = signature,
                }, tx, cancellationToken),
                FinalizeRound f => await SendAsync(TasksAddress, new RelayFinalizeRound
                {
                    From = f.From.ToString(), TxNonce = f.Nonce, TaskId = f.TaskId, Round = f.Round, NewModelHash = f.NewModelHash.Bytes.ToArray(), Signature = signature,
                }, tx, cancellationToken),
                SubmitProposal or VoteProposal => await RelayGovernanceAsync(tx, signature, cancellationToken),
                CreateTournament => throw new LedgerException(LedgerError.InvalidParameter,
                    "type: create_tournament: tournament tasks settle by rank on the embedded ledger only; the EVM contracts do not have that rule yet"),
                CancelTask c => await SendAsync(TasksAddress, new RelayCancelTask { From = c.From.ToString(), TxNonce = c.Nonce, TaskId = c.TaskId, Signature = signature }, tx, cancellationToken),
                HandoverTask h => await SendAsync(TasksAddress, new RelayHandoverTask
                {
                    From = h.From.ToString(), TxNonce = h.Nonce, TaskId = h.TaskId, Coordinator = h.Coordinator.ToString(), Signature = signature,
                }, tx, cancellationToken),
                LeaveTask lt => await SendAsync(TasksAddress, new RelayLeaveTask { From = lt.From.ToString(), TxNonce = lt.Nonce, TaskId = lt.TaskId, Role = (byte)lt.Role, Signature = signature }, tx, cancellationToken),
                _ => await RelayMarketAsync(tx, signature, cancellationToken)
                    ?? throw new LedgerException(LedgerError.InvalidParameter, $"type: {tx.TypeName} is not a transaction this ledger knows"),
            };
    }

    private async Task<TransactionReceipt> SendAsync<TMessage>(string contract, TMessage message, Transaction tx, CancellationToken cancellationToken)
        where TMessage : FunctionMessage, new()
    {
        var handler = _web3.Eth.GetContractTransactionHandler<TMessage>();
        try
        {
            // Estimating runs the transaction against the head state: a refusal reverts here, with its reason, and costs no gas.
            message.Gas = WithMargin(await handler.EstimateGasAsync(contract, message));
            var receipt = await handler.SendRequestAndWaitForReceiptAsync(contract, message, cancellationToken);
            if (receipt.Status?.Value != 1)
            {
                throw new LedgerException(LedgerError.InvalidParameter, $"{tx.TypeName}: reverted on chain in transaction {receipt.TransactionHash}");
            }
            return receipt;
        }
        catch (SmartContractCustomErrorRevertException revert)
        {
            throw await DecodeMarketAsync(revert, tx) ?? await DecodeGovernanceAsync(revert, tx) ?? EvmRefusals.Decode(revert, tx, ChainId);
        }
    }

    /// <summary>
    /// The estimate plus an eighth plus 100,000: an estimate is exact for the head state, and a contract that calls another
    /// keeps back 1/64 of the gas it forwards, which a tight limit can leave the callee short of (SkeinMarket calling
    /// SkeinLedger). The fixed part covers a transaction mined in a later market block than it was estimated in (a slow
    /// machine): settling that block writes storage the estimate did not (a market deposit reverted out of gas so under load).
    /// Only the gas used is paid.
    /// </summary>
    private static HexBigInteger WithMargin(HexBigInteger estimate) => new(estimate.Value + (estimate.Value / 8) + 100_000);

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
        var delegators = await _web3.Eth.GetContractQueryHandler<DelegatorsOfQuery>()
            .QueryDeserializingToObjectAsync<DelegatorsOfOutput>(new DelegatorsOfQuery { Operator = operatorAddress.ToString(), Role = (byte)role }, ContractAddress);
        return new StakeInfo(operatorAddress, role, (UInt128)stake.Self, (UInt128)stake.Delegated, commission,
            delegators.Who.Zip(delegators.Amounts, (who, amount) => (Address.Parse(who), (UInt128)amount)).ToArray());
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

    private Task<TOut> QueryAsync<TQuery, TOut>(TQuery query, BlockParameter? at = null, string? contract = null)
        where TQuery : FunctionMessage, new() =>
        _web3.Eth.GetContractQueryHandler<TQuery>().QueryAsync<TOut>(contract ?? ContractAddress, query, at);

    public async Task<TaskInfo?> GetTaskAsync(ulong taskId, CancellationToken cancellationToken = default)
    {
        var next = await QueryAsync<NextTaskIdQuery, ulong>(new NextTaskIdQuery(), contract: TasksAddress);
        if (taskId == 0 || taskId >= next)
        {
            return null;
        }
        var o = await _web3.Eth.GetContractQueryHandler<TaskOfQuery>().QueryDeserializingToObjectAsync<TaskOfOutput>(new TaskOfQuery { TaskId = taskId }, TasksAddress);
        cancellationToken.ThrowIfCancellationRequested();
        var t = o.Task;
        var live = await _web3.Eth.GetContractQueryHandler<LivenessOfQuery>().QueryDeserializingToObjectAsync<LivenessOfOutput>(new LivenessOfQuery { TaskId = taskId }, TasksAddress);
        // Members who left stay in the contract's lists (their place there is their bit in the picked sets).
        var trainers = await QueryAsync<MembersOfQuery, List<string>>(new MembersOfQuery { TaskId = taskId, Role = (byte)Role.Trainer }, contract: TasksAddress);
        var validators = await QueryAsync<MembersOfQuery, List<string>>(new MembersOfQuery { TaskId = taskId, Role = (byte)Role.Validator }, contract: TasksAddress);
        cancellationToken.ThrowIfCancellationRequested();
        // The contract lists members in joining order; the embedded ledger sorts them.
        static Address[] Sorted(IEnumerable<string> members) => members.Select(m => Address.Parse(m)).Order().ToArray();
        // A cancelled task is closed in the contract (completed) so that every rule refuses it; the embedded ledger says cancelled only.
        return new TaskInfo(taskId, Address.Parse(t.Creator), new Hash32(t.SpecHash), (UInt128)t.RewardPool, (UInt128)t.Escrow, t.Rounds, t.SettledRounds, t.Completed && !live.Cancelled,
            (UInt128)t.MinStake, t.TrainersPerRound, t.ValidatorsPerRound, t.RejectBelow, new Hash32(t.ModelHash), Sorted(trainers), Sorted(validators))
        {
            Coordinator = Address.Parse(live.Coordinator),
            Cancelled = live.Cancelled,
            Refunded = (UInt128)live.Refunded,
            AbandonHeight = live.AbandonHeight,
        };
    }

    public async Task<IReadOnlyList<TaskInfo>> ListTasksAsync(CancellationToken cancellationToken = default)
    {
        var next = await QueryAsync<NextTaskIdQuery, ulong>(new NextTaskIdQuery(), contract: TasksAddress);
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
        if (_settled.TryGetValue((taskId, round), out var known))
        {
            return known;
        }
        var o = await _web3.Eth.GetContractQueryHandler<RoundOfQuery>().QueryDeserializingToObjectAsync<RoundOfOutput>(new RoundOfQuery { TaskId = taskId, Round = round }, TasksAddress);
        if (o.Data.Phase == 0)
        {
            return null;
        }
        var scores = new Dictionary<Address, IReadOnlyList<ulong>>();
        foreach (var v in o.Revealers)
        {
            var s = await QueryAsync<ScoresOfQuery, List<BigInteger>>(new ScoresOfQuery { TaskId = taskId, Round = round, Validator = v }, contract: TasksAddress);
            scores[Address.Parse(v)] = s.Select(x => (ulong)x).ToArray();
        }
        cancellationToken.ThrowIfCancellationRequested();
        static Address[] Addresses(IEnumerable<string> list) => list.Select(a => Address.Parse(a)).ToArray();
        var d = o.Data;
        var updates = o.Updates.Select(u => new UpdateEntry(Address.Parse(u.Trainer), new Hash32(u.UpdateHash), u.Samples)).ToArray();
        var (outcomes, movements, settledAt) = d.Phase == (byte)RoundPhase.Settled ? await SettlementAsync(taskId, round, updates) : ([], [], 0UL);
        var info = new RoundInfo(taskId, round, (RoundPhase)d.Phase, new Hash32(d.Seed), new Hash32(d.ModelHash), new Hash32(d.NewModelHash), (UInt128)d.Reward,
            Addresses(o.PickedTrainers), Addresses(o.PickedValidators), updates,
            [.. Addresses(o.Committers).Order()], [.. Addresses(o.Revealers).Order()], outcomes, movements)
        {
            Scores = scores,
            PhaseTimes = d.PhaseTimes.Select(t => (long)t).ToArray(),
            Deadline = d.Phase == (byte)RoundPhase.Settled ? 0 : await QueryAsync<DeadlineOfQuery, ulong>(new DeadlineOfQuery { TaskId = taskId, Round = round }, contract: TasksAddress),
        };
        if (settledAt > 0 && (ulong)(await _web3.Eth.Blocks.GetBlockNumber.SendRequestAsync()).Value + 1 >= settledAt + (ulong)_options.Confirmations)
        {
            _settled.TryAdd((taskId, round), info);
        }
        return info;
    }

    /// <summary>A settled round's verdicts and movements, from the logs its finalizing transaction left in both contracts.</summary>
    private async Task<(IReadOnlyList<UpdateOutcome>, IReadOnlyList<LedgerMovement>, ulong Block)> SettlementAsync(ulong taskId, uint round, UpdateEntry[] updates)
    {
        var verdictEvent = _web3.Eth.GetEvent<VerdictEvent>(TasksAddress);
        var verdicts = await verdictEvent.GetAllChangesAsync(verdictEvent.CreateFilterInput<ulong, uint>(taskId, round, BlockParameter.CreateEarliest(), BlockParameter.CreateLatest()));
        var outcomes = verdicts.OrderBy(v => (int)v.Event.Index).Select(v =>
        {
            var u = updates[(int)v.Event.Index];
            return new UpdateOutcome(u.Trainer, u.UpdateHash, (ulong)v.Event.Consensus, v.Event.Accepted, (UInt128)v.Event.Reward);
        }).ToArray();
        var movements = new List<(ulong Block, ulong Index, LedgerMovement Movement)>();
        foreach (var contract in new[] { ContractAddress, TasksAddress })
        {
            var movementEvent = _web3.Eth.GetEvent<MovementEvent>(contract);
            foreach (var m in await movementEvent.GetAllChangesAsync(movementEvent.CreateFilterInput<ulong, uint>(taskId, round, BlockParameter.CreateEarliest(), BlockParameter.CreateLatest())))
            {
                var e = m.Event;
                var account = Address.Parse(e.Account);
                var operatorAddress = Address.Parse(e.Operator);
                // The embedded ledger's reasons, from the kind of movement and whose stake it went through.
                // The kind names the role behind a delegator's movement; the ledger's words name it in the reason.
                var (kind, reason) = e.Kind switch
                {
                    "trainer reward" => (e.Kind, $"task {taskId} round {round}: accepted update"),
                    "validator reward" => (e.Kind, $"task {taskId} round {round}: scores agreeing with consensus"),
                    "delegator reward (trainer)" => ("delegator reward", $"task {taskId} round {round}: accepted update (delegated to {operatorAddress})"),
                    "delegator reward (validator)" => ("delegator reward", $"task {taskId} round {round}: scores agreeing with consensus (delegated to {operatorAddress})"),
                    "trainer slash" => (e.Kind, $"task {taskId} round {round}: update rejected by a supermajority"),
                    "validator slash" => (e.Kind, $"task {taskId} round {round}: committed scores but did not reveal"),
                    "delegator slash (trainer)" => ("delegator slash", $"task {taskId} round {round}: update rejected by a supermajority (delegated to {operatorAddress})"),
                    "delegator slash (validator)" => ("delegator slash", $"task {taskId} round {round}: committed scores but did not reveal (delegated to {operatorAddress})"),
                    "refund" => (e.Kind, $"task {taskId}: unpaid escrow returned"),
                    _ => (e.Kind, e.Kind),
                };
                movements.Add(((ulong)m.Log.BlockNumber.Value, (ulong)m.Log.LogIndex.Value, new LedgerMovement(account, kind, (UInt128)e.Amount, reason)));
            }
        }
        var block = verdicts.Select(v => (ulong)v.Log.BlockNumber.Value).Concat(movements.Select(m => m.Block)).DefaultIfEmpty(1UL).Max();
        return (outcomes, movements.OrderBy(m => m.Block).ThenBy(m => m.Index).Select(m => m.Movement).ToArray(), block);
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

    /// <summary>
    /// What each settled round of a task cost in gas: every transaction of that round from the block that opened it to
    /// the one that settled it (submissions, commits, reveals and the coordinator's phase moves; not the market's nor
    /// another task's transactions mined meanwhile), from their receipts.
    /// </summary>
    public async Task<IReadOnlyList<RoundGas>> GetRoundGasAsync(ulong taskId, CancellationToken cancellationToken = default)
    {
        var phases = _web3.Eth.GetEvent<RoundPhaseEvent>(TasksAddress);
        var logs = await phases.GetAllChangesAsync(phases.CreateFilterInput<ulong>(taskId, BlockParameter.CreateEarliest(), BlockParameter.CreateLatest()));
        var applied = _web3.Eth.GetEvent<AppliedEvent>(ContractAddress);
        var result = new List<RoundGas>();
        foreach (var round in logs.GroupBy(l => l.Event.Round).OrderBy(g => g.Key))
        {
            var settled = round.Where(l => l.Event.Phase == (byte)RoundPhase.Settled).Select(l => l.Log.BlockNumber.Value).ToArray();
            if (settled.Length == 0)
            {
                continue;
            }
            var from = new BlockParameter(new HexBigInteger(round.Min(l => l.Log.BlockNumber.Value)));
            var to = new BlockParameter(new HexBigInteger(settled.Max()));
            var txs = (await applied.GetAllChangesAsync(applied.CreateFilterInput(from, to))).Select(l => l.Log.TransactionHash).Distinct().ToArray();
            ulong gas = 0;
            var count = 0;
            foreach (var hash in txs)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Only this round's own transactions: market transactions, or another task's, mined meanwhile are not its.
                var evm = await _web3.Eth.Transactions.GetTransactionByHash.SendRequestAsync(hash);
                if (EvmTransactions.Decode(evm, ChainId)?.Tx is RoundTransaction rt && rt.TaskId == taskId && rt.Round == round.Key)
                {
                    gas += (ulong)(await _web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(hash)).GasUsed.Value;
                    count++;
                }
            }
            result.Add(new RoundGas(round.Key, gas, count));
        }
        return result;
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

    /// <summary>A block, with the digests of the Skein transactions it applied (an EVM block also holds other transactions).</summary>
    public async Task<BlockInfo?> GetBlockAsync(ulong height, CancellationToken cancellationToken = default)
    {
        var block = await _web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(new HexBigInteger(height));
        if (block is null)
        {
            return null;
        }
        var applied = _web3.Eth.GetEvent<AppliedEvent>(ContractAddress);
        var at = new BlockParameter(new HexBigInteger(height));
        var logs = await applied.GetAllChangesAsync(applied.CreateFilterInput(at, at));
        cancellationToken.ThrowIfCancellationRequested();
        var ids = logs.OrderBy(l => (ulong)l.Log.LogIndex.Value).Select(l => new Hash32(l.Event.Digest)).ToArray();
        return new BlockInfo((ulong)block.Number.Value, Hash32.Parse(block.BlockHash), Hash32.Parse(block.ParentHash), (long)block.Timestamp.Value * 1000,
            Hash32.Parse(block.TransactionsRoot), Hash32.Parse(block.StateRoot), ids.Length, ids);
    }

    /// <summary>A Skein transaction by its digest: the Applied log names the EVM transaction, whose input carries it.</summary>
    public async Task<(SignedTransaction Transaction, TxReceipt Receipt)?> GetTransactionAsync(Hash32 id, CancellationToken cancellationToken = default)
    {
        var log = await AppliedLogAsync(id);
        if (log is null)
        {
            return null;
        }
        var evm = await _web3.Eth.Transactions.GetTransactionByHash.SendRequestAsync(log.Log.TransactionHash);
        cancellationToken.ThrowIfCancellationRequested();
        return EvmTransactions.Decode(evm, ChainId) is { } signed
            ? (signed, new TxReceipt(id, (ulong)log.Log.BlockNumber.Value, (int)log.Log.TransactionIndex.Value))
            : null;
    }

    private async Task<EventLog<AppliedEvent>?> AppliedLogAsync(Hash32 digest)
    {
        var applied = _web3.Eth.GetEvent<AppliedEvent>(ContractAddress);
        // Topics: the event, any sender, this digest.
        var filter = new NewFilterInput
        {
            Address = [ContractAddress],
            Topics = ["0x" + applied.EventABI.Sha3Signature, null!, digest.ToString()],
            FromBlock = BlockParameter.CreateEarliest(),
            ToBlock = BlockParameter.CreateLatest(),
        };
        return (await applied.GetAllChangesAsync(filter)).FirstOrDefault();
    }

    public ValueTask DisposeAsync()
    {
        _relay.Dispose();
        _indexLock.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One settled round's cost on the chain: the gas of every transaction of the round, and how many there were.</summary>
public sealed record RoundGas(uint Round, ulong Gas, int Transactions);
