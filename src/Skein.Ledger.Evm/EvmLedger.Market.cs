using System.Numerics;
using System.Text;
using Nethereum.Contracts;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Skein.Ledger.Crypto;
using Skein.Ledger.Evm.Contracts;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;
using Transaction = Skein.Ledger.Transactions.Transaction;

namespace Skein.Ledger.Evm;

/// <summary>
/// The compute market on SkeinMarket.sol: relaying the ten market transactions (with what the relayer parsed from their
/// JSON fields, since the contract cannot parse JSON) and reading providers, deployments, orders, bids and leases back
/// into the embedded ledger's read models.
/// </summary>
public sealed partial class EvmLedger
{
    private (MarketParams Rules, long GenesisMs)? _market;

    /// <summary>Where SkeinMarket.sol (providers, deployments, bids, leases, escrow) lives on the chain.</summary>
    public string MarketAddress { get; }

    // The market as last read, kept current from the contract's events: a read asks the node only for the logs since
    // the last one and re-reads what they name, so that providers polling the market cost two calls, not a read of
    // every deployment.
    private readonly SemaphoreSlim _indexLock = new(1, 1);
    private readonly SortedDictionary<DeploymentId, DeploymentState> _deploymentIndex = [];
    private readonly SortedDictionary<Address, ProviderInfo> _providerIndex = [];
    private ulong? _indexedTo;

    /// <summary>Brings the market index up to the head block: the deployments and providers the new logs name are read again.</summary>
    private async Task RefreshMarketIndexAsync(CancellationToken cancellationToken)
    {
        await _indexLock.WaitAsync(cancellationToken);
        try
        {
            var head = (ulong)(await _web3.Eth.Blocks.GetBlockNumber.SendRequestAsync()).Value;
            if (_indexedTo is { } done && done >= head)
            {
                return;
            }
            var from = _indexedTo is { } last ? new BlockParameter(new HexBigInteger(last + 1)) : BlockParameter.CreateEarliest();
            var to = new BlockParameter(new HexBigInteger(head));
            var touched = _web3.Eth.GetEvent<DeploymentTouchedEvent>(MarketAddress);
            var deployments = (await touched.GetAllChangesAsync(touched.CreateFilterInput(from, to)))
                .Select(l => new DeploymentId(Address.Parse(l.Event.Owner), l.Event.Dseq)).Distinct().ToArray();
            var providerEvent = _web3.Eth.GetEvent<ProviderTouchedEvent>(MarketAddress);
            var providers = (await providerEvent.GetAllChangesAsync(providerEvent.CreateFilterInput(from, to)))
                .Select(l => Address.Parse(l.Event.Provider)).Distinct().ToArray();
            // Read at the head the logs were taken to, so that the index is the state of one block.
            foreach (var id in deployments)
            {
                _deploymentIndex[id] = (await DeploymentStateAsync(id, to, cancellationToken))!;
            }
            foreach (var provider in providers)
            {
                _providerIndex[provider] = (await ReadProviderAsync(provider, to, cancellationToken))!;
            }
            _indexedTo = head;
        }
        finally
        {
            _indexLock.Release();
        }
    }

    private async Task<(MarketParams Rules, long GenesisMs)> MarketRulesAsync()
    {
        if (_market is { } known)
        {
            return known;
        }
        var m = MarketAddress;
        var rules = new MarketParams(
            await QueryAsync<DenomQuery, string>(new DenomQuery(), contract: m),
            (UInt128)await QueryAsync<BaseUnitsQuery, BigInteger>(new BaseUnitsQuery(), contract: m),
            await QueryAsync<BlockIntervalQuery, ulong>(new BlockIntervalQuery(), contract: m),
            (UInt128)await QueryAsync<MinDepositQuery, BigInteger>(new MinDepositQuery(), contract: m),
            (UInt128)await QueryAsync<BidDepositQuery, BigInteger>(new BidDepositQuery(), contract: m),
            await QueryAsync<BidTimeoutQuery, ulong>(new BidTimeoutQuery(), contract: m));
        var genesisMs = (long)await QueryAsync<GenesisMsQuery, ulong>(new GenesisMsQuery(), contract: m);
        _market = (rules, genesisMs);
        return _market.Value;
    }

    /// <summary>Relays a market transaction; null when <paramref name="tx"/> is not one.</summary>
    private async Task<TransactionReceipt?> RelayMarketAsync(Transaction tx, byte[] signature, CancellationToken cancellationToken)
    {
        var m = MarketAddress;
        switch (tx)
        {
            case RegisterProvider r:
                {
                    var (pairs, problem) = Parse(() => Pairs(MarketRules.CheckProvider(r).Attributes));
                    return await SendParsedAsync(m, new RelayRegisterProvider
                    {
                        From = r.From.ToString(), TxNonce = r.Nonce, HostUri = r.HostUri, Attributes = r.Attributes, Capacity = r.Capacity, Pairs = pairs, Signature = signature,
                    }, tx, problem, 24, cancellationToken);
                }
            case SignProviderAttributes s:
                {
                    var (pairs, problem) = Parse(() => Pairs(MarketRules.ParseAttributes(s.Attributes, "attributes")));
                    return await SendParsedAsync(m, new RelaySignProviderAttributes
                    {
                        From = s.From.ToString(), TxNonce = s.Nonce, Provider = s.Provider.ToString(), Attributes = s.Attributes, Pairs = pairs, Signature = signature,
                    }, tx, problem, 24, cancellationToken);
                }
            case CreateDeployment c:
                {
                    var (rules, _) = await MarketRulesAsync();
                    var (parsed, problem) = Parse(() => GroupWords(MarketRules.CheckDeploymentGroups(c.Groups, rules)));
                    return await SendParsedAsync(m, new RelayCreateDeployment
                    {
                        From = c.From.ToString(), TxNonce = c.Nonce, Dseq = c.Dseq, ManifestHash = c.ManifestHash.Bytes.ToArray(), Groups = c.Groups, Deposit = c.Deposit,
                        Parsed = problem is null ? parsed : [], Signature = signature,
                    }, tx, problem, 21, cancellationToken);
                }
            case DepositDeployment d:
                return await SendAsync(m, new RelayDepositDeployment { From = d.From.ToString(), TxNonce = d.Nonce, Owner = d.Owner.ToString(), Dseq = d.Dseq, Amount = d.Amount, Signature = signature },
                    tx, cancellationToken);
            case CloseDeployment c:
                return await SendAsync(m, new RelayCloseDeployment { From = c.From.ToString(), TxNonce = c.Nonce, Owner = c.Owner.ToString(), Dseq = c.Dseq, Signature = signature }, tx, cancellationToken);
            case CreateBid b:
                return await SendAsync(m, Order(new RelayCreateBid { Price = b.Price, Signature = signature }, b), tx, cancellationToken);
            case CloseBid b:
                return await SendAsync(m, Order(new RelayCloseBid { Signature = signature }, b), tx, cancellationToken);
            case CreateLease l:
                return await SendAsync(m, Order(new RelayCreateLease { Provider = l.Provider.ToString(), Signature = signature }, l), tx, cancellationToken);
            case WithdrawLease w:
                return await SendAsync(m, Order(new RelayWithdrawLease { Signature = signature }, w), tx, cancellationToken);
            case CloseLease c:
                return await SendAsync(m, Order(new RelayCloseLease { Provider = c.Provider.ToString(), Signature = signature }, c), tx, cancellationToken);
            default:
                return null;
        }
    }

    /// <summary>
    /// The keeper's round: closes every deployment whose escrow ran dry by the head block and times out every bid
    /// that waited too long, with the contract's open settle and expireBids, so that balances and the market's state
    /// move on when nobody acts on a deployment. The embedded ledger does this at the start of every block it seals
    /// (its coordinator seals one every market block); on a chain anyone may do it, and the coordinator does, once a
    /// market block. Proposals whose voting period has ended are tallied too (a chain's first transaction after the end
    /// does it anyway). Returns how many transactions it sent.
    /// </summary>
    /// <param name="at">When the next block will be made (default: now, or just after the head block if that is later).</param>
    /// <param name="cancellationToken">Stops the round.</param>
    public async Task<int> SettleDueAsync(DateTimeOffset? at = null, CancellationToken cancellationToken = default)
    {
        if (Relayer is null)
        {
            return 0;
        }
        var (rules, genesisMs) = await MarketRulesAsync();
        var head = await GetMarketStatusAsync(cancellationToken);
        var next = at?.ToUnixTimeMilliseconds() ?? Math.Max(head.Timestamp + 1_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var height = rules.MarketHeight(next, genesisMs);
        var sent = await EndVotingIfDueAsync(cancellationToken) ? 1 : 0;
        foreach (var state in await AllDeploymentStatesAsync(cancellationToken))
        {
            var d = MarketQueries.ToInfo(height, state);
            if (d.Status != DeploymentStatus.Active)
            {
                continue;
            }
            if (d.Escrow.Overdrawn)
            {
                await SendKeeperAsync(new SettleFunction { Owner = d.Id.Owner.ToString(), Dseq = d.Id.Dseq }, cancellationToken);
                sent++;
                continue;
            }
            foreach (var o in d.Groups.SelectMany(g => g.Orders).Where(o => o.Bids.Any(b => b.Status == BidStatus.Open && b.CreatedAt + rules.BidTimeoutBlocks <= height)))
            {
                await SendKeeperAsync(new ExpireBidsFunction { Owner = o.Id.Owner.ToString(), Dseq = o.Id.Dseq, Gseq = o.Id.Gseq, Oseq = o.Id.Oseq }, cancellationToken);
                sent++;
            }
        }
        return sent;
    }

    private Task SendKeeperAsync<TMessage>(TMessage message, CancellationToken cancellationToken)
        where TMessage : FunctionMessage, new() => SendKeeperAsync(MarketAddress, message, cancellationToken);

    private async Task SendKeeperAsync<TMessage>(string contract, TMessage message, CancellationToken cancellationToken)
        where TMessage : FunctionMessage, new()
    {
        await _relay.WaitAsync(cancellationToken);
        try
        {
            var handler = _web3.Eth.GetContractTransactionHandler<TMessage>();
            message.Gas = WithMargin(await handler.EstimateGasAsync(contract, message));
            await handler.SendRequestAndWaitForReceiptAsync(contract, message, cancellationToken);
        }
        finally
        {
            _relay.Release();
        }
    }

    private static T Order<T>(T message, OrderTransaction tx)
        where T : RelayOrderFunction
    {
        message.From = tx.From.ToString();
        message.TxNonce = tx.Nonce;
        message.Owner = tx.Owner.ToString();
        message.Dseq = tx.Dseq;
        message.Gseq = tx.Gseq;
        message.Oseq = tx.Oseq;
        return message;
    }

    /// <summary>
    /// Parses a JSON field as the embedded ledger does. When it does not parse, the relayer still asks the contract
    /// with a malformed parse: the contract's earlier checks (signature, nonce, existence) refuse first as the
    /// embedded ledger's would, and when it gets as far as the parse, the parser's own words are the refusal.
    /// </summary>
    private static (List<byte[]> Words, LedgerException? Problem) Parse(Func<List<byte[]>> parse)
    {
        try
        {
            return (parse(), null);
        }
        catch (LedgerException problem)
        {
            return ([new byte[32]], problem);
        }
    }

    private async Task<TransactionReceipt> SendParsedAsync<TMessage>(string contract, TMessage message, Transaction tx, LedgerException? problem, byte field, CancellationToken cancellationToken)
        where TMessage : FunctionMessage, new()
    {
        try
        {
            return await SendAsync(contract, message, tx, cancellationToken);
        }
        catch (LedgerException refusal) when (problem is not null && refusal.Code == LedgerError.InvalidParameter && refusal.Data["field"] is byte f && f == field)
        {
            throw problem;
        }
    }

    private static byte[] Keccak(string text) => Eip712.Keccak(Encoding.UTF8.GetBytes(text));

    private static List<byte[]> Pairs(IEnumerable<KeyValuePair<string, string>> attributes) =>
        attributes.OrderBy(a => a.Key, StringComparer.Ordinal).SelectMany(a => new[] { Keccak(a.Key), Keccak(a.Value) }).ToList();

    /// <summary>The groups as SkeinMarket.relayCreateDeployment reads them, a 32-byte word at a time.</summary>
    private static List<byte[]> GroupWords((IReadOnlyList<GroupSpec> Groups, UInt128[] Ceilings) checkedGroups)
    {
        var (groups, ceilings) = checkedGroups;
        var words = new List<byte[]> { Word((uint)groups.Count) };
        for (var i = 0; i < groups.Count; i++)
        {
            var r = groups[i].Requirements;
            words.Add(Word(ceilings[i]));
            words.Add(Word((uint)r.Attributes.Count));
            words.AddRange(Pairs(r.Attributes));
            words.Add(Word((uint)r.SignedByAllOf.Count));
            words.AddRange(r.SignedByAllOf.Select(a => AddressWord(Placement.ParseAuditor(a))));
            words.Add(Word((uint)r.SignedByAnyOf.Count));
            words.AddRange(r.SignedByAnyOf.Select(a => AddressWord(Placement.ParseAuditor(a))));
        }
        return words;
    }

    private static byte[] Word(UInt128 value)
    {
        var word = new byte[32];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(word.AsSpan(16), value);
        return word;
    }

    private static byte[] AddressWord(Address address)
    {
        var word = new byte[32];
        address.WriteTo(word.AsSpan(12));
        return word;
    }

    public async Task<MarketStatus> GetMarketStatusAsync(CancellationToken cancellationToken = default)
    {
        var (rules, genesisMs) = await MarketRulesAsync();
        var block = await _web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(BlockParameter.CreateLatest());
        cancellationToken.ThrowIfCancellationRequested();
        var timestamp = (long)block.Timestamp.Value * 1000;
        return new MarketStatus((ulong)block.Number.Value, rules.MarketHeight(timestamp, genesisMs), timestamp, rules);
    }

    public async Task<ProviderInfo?> GetProviderAsync(Address provider, CancellationToken cancellationToken = default)
    {
        await RefreshMarketIndexAsync(cancellationToken);
        return _providerIndex.GetValueOrDefault(provider);
    }

    private async Task<ProviderInfo?> ReadProviderAsync(Address provider, BlockParameter at, CancellationToken cancellationToken)
    {
        var p = await _web3.Eth.GetContractQueryHandler<ProviderOfQuery>()
            .QueryDeserializingToObjectAsync<ProviderOfOutput>(new ProviderOfQuery { Provider = provider.ToString() }, MarketAddress, at);
        if (!p.Exists)
        {
            return null;
        }
        var audits = await _web3.Eth.GetContractQueryHandler<AuditsOfQuery>()
            .QueryDeserializingToObjectAsync<AuditsOfOutput>(new AuditsOfQuery { Provider = provider.ToString() }, MarketAddress, at);
        cancellationToken.ThrowIfCancellationRequested();
        var signed = audits.Auditors.Zip(audits.Attributes).Where(a => a.Second.Length > 0)
            .ToDictionary(a => Address.Parse(a.First), a => (IReadOnlyDictionary<string, string>)MarketRules.ParseAttributes(a.Second, "attributes"));
        return new ProviderInfo(provider, p.HostUri, MarketRules.ParseAttributes(p.Attributes, "attributes"), MarketRules.ParseCapacity(p.Capacity), p.RegisteredAt,
            new SortedDictionary<Address, IReadOnlyDictionary<string, string>>(signed));
    }

    public async Task<IReadOnlyList<ProviderInfo>> ListProvidersAsync(CancellationToken cancellationToken = default)
    {
        await RefreshMarketIndexAsync(cancellationToken);
        // In address order, as the embedded ledger lists them.
        return _providerIndex.Values.ToArray();
    }

    public async Task<DeploymentInfo?> GetDeploymentAsync(DeploymentId id, CancellationToken cancellationToken = default)
    {
        var height = (await GetMarketStatusAsync(cancellationToken)).MarketHeight;
        await RefreshMarketIndexAsync(cancellationToken);
        return _deploymentIndex.TryGetValue(id, out var state) ? MarketQueries.ToInfo(height, state) : null;
    }

    /// <summary>A deployment as the contract stores it, in the embedded ledger's state classes (so that one read model serves both backends).</summary>
    private async Task<DeploymentState?> DeploymentStateAsync(DeploymentId id, BlockParameter at, CancellationToken cancellationToken)
    {
        var owner = id.Owner.ToString();
        var d = (await _web3.Eth.GetContractQueryHandler<DeploymentOfQuery>()
            .QueryDeserializingToObjectAsync<DeploymentOfOutput>(new DeploymentOfQuery { Owner = owner, Dseq = id.Dseq }, MarketAddress, at)).Deployment;
        if (d.Status == 0)
        {
            return null;
        }
        var state = new DeploymentState
        {
            Id = id, ManifestHash = new Hash32(d.ManifestHash), CreatedAt = d.CreatedAt, Status = (DeploymentStatus)d.Status,
            ClosedAt = d.Status == (byte)DeploymentStatus.Closed ? d.ClosedAt : null, CloseReason = Reason(d.CloseReason),
        };
        state.Escrow.Balance = (UInt128)d.Balance;
        state.Escrow.Deposited = (UInt128)d.Deposited;
        state.Escrow.Transferred = (UInt128)d.Transferred;
        state.Escrow.SettledAt = d.SettledAt;
        state.Escrow.Overdrawn = d.Overdrawn;
        var specs = GroupSpec.FromJson(d.Groups);
        for (var g = 1u; g <= d.GroupCount; g++)
        {
            var group = await _web3.Eth.GetContractQueryHandler<GroupOfQuery>()
                .QueryDeserializingToObjectAsync<GroupOfOutput>(new GroupOfQuery { Owner = owner, Dseq = id.Dseq, Gseq = g }, MarketAddress, at);
            var groupState = new GroupState { Gseq = g, Spec = specs[(int)g - 1], CeilingPerBlock = (UInt128)group.Ceiling };
            for (var k = 1u; k <= group.OrderCount; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var o = await _web3.Eth.GetContractQueryHandler<OrderOfQuery>()
                    .QueryDeserializingToObjectAsync<OrderOfOutput>(new OrderOfQuery { Owner = owner, Dseq = id.Dseq, Gseq = g, Oseq = k }, MarketAddress, at);
                var order = new OrderState { Oseq = k, CreatedAt = o.CreatedAt, Status = (OrderStatus)o.Status };
                for (var i = 0; i < o.Bidders.Count; i++)
                {
                    var b = o.Bids[i];
                    var provider = Address.Parse(o.Bidders[i]);
                    order.Bids[provider] = new BidState { Provider = provider, Price = (UInt128)b.Price, CreatedAt = b.CreatedAt, Status = (BidStatus)b.Status, DepositHeld = (UInt128)b.DepositHeld };
                }
                if (o.Lease.Status != 0)
                {
                    var l = o.Lease;
                    order.Lease = new LeaseState
                    {
                        Provider = Address.Parse(o.LeaseProvider), Price = (UInt128)l.Price, StartedAt = l.StartedAt, Status = (LeaseStatus)l.Status,
                        ClosedAt = l.Status == (byte)LeaseStatus.Active ? null : l.ClosedAt, CloseReason = Reason(l.CloseReason),
                        Accrued = (UInt128)l.Accrued, Withdrawn = (UInt128)l.Withdrawn,
                    };
                }
                groupState.Orders.Add(order);
            }
            state.Groups.Add(groupState);
        }
        return state;
    }

    private static string? Reason(byte code) => code switch
    {
        1 => "tenant_closed",
        2 => "provider_closed",
        3 => "insufficient_funds",
        _ => null,
    };

    public async Task<IReadOnlyList<DeploymentInfo>> ListDeploymentsAsync(DeploymentQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var all = await AllDeploymentsAsync(cancellationToken);
        return all
            .Where(d => query.Owner is not { } owner || d.Id.Owner == owner)
            .Where(d => !query.ActiveOnly || d.Status == DeploymentStatus.Active)
            .Where(d => query.Provider is not { } provider || d.Groups.Any(g => g.Orders.Any(o => o.Lease?.Id.Provider == provider)))
            .ToArray();
    }

    /// <summary>Every deployment, in the embedded ledger's order (by owner, then sequence), as read at the head block.</summary>
    private async Task<IReadOnlyList<DeploymentInfo>> AllDeploymentsAsync(CancellationToken cancellationToken)
    {
        var height = (await GetMarketStatusAsync(cancellationToken)).MarketHeight;
        return (await AllDeploymentStatesAsync(cancellationToken)).Select(d => MarketQueries.ToInfo(height, d)).ToArray();
    }

    private async Task<IReadOnlyList<DeploymentState>> AllDeploymentStatesAsync(CancellationToken cancellationToken)
    {
        await RefreshMarketIndexAsync(cancellationToken);
        return _deploymentIndex.Values.ToArray();
    }

    public async Task<IReadOnlyList<OrderInfo>> ListOpenOrdersAsync(CancellationToken cancellationToken = default) =>
        (await AllDeploymentsAsync(cancellationToken)).Where(d => d.Status == DeploymentStatus.Active)
            .SelectMany(d => d.Groups.SelectMany(g => g.Orders).Where(o => o.Status == OrderStatus.Open)).ToArray();

    public async Task<IReadOnlyList<LeaseInfo>> ListLeasesAsync(LeaseQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return (await AllDeploymentsAsync(cancellationToken))
            .Where(d => query.Owner is not { } owner || d.Id.Owner == owner)
            .SelectMany(d => d.Leases)
            .Where(l => query.Provider is not { } provider || l.Id.Provider == provider)
            .Where(l => !query.ActiveOnly || l.Status == LeaseStatus.Active).ToArray();
    }
}

/// <summary>SkeinMarket.sol's refusals, worded as the embedded ledger words them (reading what the words need from the chain).</summary>
public sealed partial class EvmLedger
{
    private async Task<LedgerException?> DecodeMarketAsync(SmartContractCustomErrorRevertException revert, Transaction tx)
    {
        if (tx is not (RegisterProvider or SignProviderAttributes or CreateDeployment or DepositDeployment or CloseDeployment or OrderTransaction))
        {
            return null;
        }
        var (rules, _) = await MarketRulesAsync();
        var (owner, dseq) = tx switch
        {
            CreateDeployment c => (c.From, c.Dseq),
            DepositDeployment d => (d.Owner, d.Dseq),
            CloseDeployment c => (c.Owner, c.Dseq),
            OrderTransaction o => (o.Owner, o.Dseq),
            _ => (tx.From, 0UL),
        };
        var deployment = new DeploymentId(owner, dseq);
        var order = tx is OrderTransaction ot ? new OrderId(ot.Owner, ot.Dseq, ot.Gseq, ot.Oseq) : default;
        static string Lower<T>(byte status) where T : struct, Enum => Enum.GetName(typeof(T), status)!.ToLowerInvariant();
        if (revert.IsCustomErrorFor<InvalidParameterError>())
        {
            var field = revert.DecodeError<InvalidParameterError>().Field;
            var refusal = new LedgerException(LedgerError.InvalidParameter, field switch
            {
                20 => $"host_uri: must be an absolute http(s) URL of at most 256 characters, got '{((RegisterProvider)tx).HostUri}'",
                21 => $"groups: a deployment has 1 to 20 groups",
                22 => "dseq: must be > 0",
                23 => "manifest_hash: must be the SHA-256 of the deployment's manifest, not zero",
                _ => $"{tx.TypeName}: the relayer's parse of its JSON fields is malformed",
            });
            refusal.Data["field"] = field;
            return refusal;
        }
        if (revert.IsCustomErrorFor<InvalidAmountError>())
        {
            return new LedgerException(LedgerError.InvalidAmount, revert.DecodeError<InvalidAmountError>().Field == 3 ? "price: must be > 0" : "amount: must be > 0");
        }
        if (revert.IsCustomErrorFor<InsufficientBalanceError>())
        {
            var e = revert.DecodeError<InsufficientBalanceError>();
            var purpose = tx switch { CreateDeployment => "the deployment's escrow deposit", DepositDeployment => "the deposit", _ => "the bid deposit" };
            return new LedgerException(LedgerError.InsufficientBalance,
                $"balance: {tx.From} has {Tokens.Format((UInt128)e.Available)} {Tokens.Symbol}, {purpose} needs {Tokens.Format((UInt128)e.Needed)}");
        }
        if (revert.IsCustomErrorFor<UnknownProviderError>())
        {
            return new LedgerException(LedgerError.UnknownProvider, tx is SignProviderAttributes s
                ? $"provider: {s.Provider} is not a registered provider"
                : $"from: {tx.From} is not a registered provider (register with its host URI and attributes first)");
        }
        if (revert.IsCustomErrorFor<DeploymentExistsError>())
        {
            return new LedgerException(LedgerError.DeploymentExists, $"dseq: {tx.From} already has deployment {dseq}");
        }
        if (revert.IsCustomErrorFor<DepositTooSmallError>())
        {
            return new LedgerException(LedgerError.DepositTooSmall,
                $"deposit: must be at least {Tokens.Format(rules.MinDeposit)} {Tokens.Symbol} ({rules.FromBaseUnits(rules.MinDeposit)} {rules.Denom}), got {Tokens.Format(((CreateDeployment)tx).Deposit)}");
        }
        if (revert.IsCustomErrorFor<UnknownDeploymentError>())
        {
            return new LedgerException(LedgerError.UnknownDeployment, $"dseq: {owner} has no deployment {dseq}");
        }
        if (revert.IsCustomErrorFor<DeploymentClosedError>())
        {
            return new LedgerException(LedgerError.DeploymentClosed, $"dseq: deployment {deployment} is closed ({Reason(revert.DecodeError<DeploymentClosedError>().Reason)})");
        }
        if (revert.IsCustomErrorFor<NotOwnerError>())
        {
            var e = revert.DecodeError<NotOwnerError>();
            return new LedgerException(LedgerError.NotOwner, tx switch
            {
                CloseDeployment => $"from: only the owner {owner} may close deployment {deployment}",
                CreateLease => $"from: {tx.From} may not lease for deployment {deployment}; only its owner {owner} may",
                _ => $"from: only the owner {owner} or the provider {Address.Parse(e.Provider)} may close this lease",
            });
        }
        if (revert.IsCustomErrorFor<UnknownOrderError>())
        {
            var e = revert.DecodeError<UnknownOrderError>();
            return new LedgerException(LedgerError.UnknownOrder, e.Kind == 0
                ? $"gseq: deployment {deployment} has groups 1..{e.Groups}, not {order.Gseq}"
                : $"oseq: group {order.Gseq} of deployment {deployment} has no order {order.Oseq} (its current order is {e.Current})");
        }
        if (revert.IsCustomErrorFor<OrderNotOpenError>())
        {
            var status = Lower<OrderStatus>(revert.DecodeError<OrderNotOpenError>().Status);
            return new LedgerException(LedgerError.OrderNotOpen, tx is CreateBid ? $"order: {order} is {status}, it takes no bids" : $"order: {order} is {status}");
        }
        if (revert.IsCustomErrorFor<BidExistsError>())
        {
            return new LedgerException(LedgerError.BidExists, $"from: {tx.From} already has an open bid on order {order}");
        }
        if (revert.IsCustomErrorFor<UnknownBidError>() || revert.IsCustomErrorFor<BidNotOpenError>())
        {
            var code = revert.IsCustomErrorFor<UnknownBidError>() ? LedgerError.UnknownBid : LedgerError.BidNotOpen;
            return new LedgerException(code, tx switch
            {
                CreateLease l => $"provider: {l.Provider} has no open bid on order {order}",
                _ when code == LedgerError.UnknownBid => $"from: {tx.From} has no bid on order {order}",
                _ => $"bid: {tx.From}'s bid on {order} is {Lower<BidStatus>(revert.DecodeError<BidNotOpenError>().Status)}; close its lease instead",
            });
        }
        if (revert.IsCustomErrorFor<BidAboveCeilingError>())
        {
            var e = revert.DecodeError<BidAboveCeilingError>();
            return new LedgerException(LedgerError.BidAboveCeiling,
                $"price: {rules.FromBaseUnits((UInt128)e.Price)} {rules.Denom} per block is above the group's ceiling of {rules.FromBaseUnits((UInt128)e.Ceiling)} {rules.Denom}");
        }
        if (revert.IsCustomErrorFor<RequirementsNotMetError>())
        {
            // The contract compares hashes; the words come from the same check on the attributes it stores.
            var group = (await GetDeploymentAsync(deployment))!.Groups[(int)order.Gseq - 1].Spec;
            var provider = (await GetProviderAsync(tx.From))!;
            var unmet = Placement.Unmet(group.Requirements, tx.From, provider.Attributes, provider.Audits) ?? "its attributes do not match";
            return new LedgerException(LedgerError.RequirementsNotMet, $"from: provider {tx.From} does not meet group '{group.Name}': {unmet}");
        }
        if (revert.IsCustomErrorFor<UnknownLeaseError>())
        {
            return new LedgerException(LedgerError.UnknownLease, tx is CloseLease c
                ? $"lease: {order}/{c.Provider} does not exist"
                : $"order: {order} has no lease");
        }
        if (revert.IsCustomErrorFor<NotProviderError>())
        {
            return new LedgerException(LedgerError.NotProvider,
                $"from: {tx.From} is not the provider of lease {order}/{Address.Parse(revert.DecodeError<NotProviderError>().Provider)}; only it may withdraw");
        }
        if (revert.IsCustomErrorFor<LeaseNotActiveError>())
        {
            var status = (LeaseStatus)revert.DecodeError<LeaseNotActiveError>().Status;
            return new LedgerException(LedgerError.LeaseNotActive, $"lease: {order}/{((CloseLease)tx).Provider} is already {MarketRules.StatusName(status)}");
        }
        return null;
    }
}
