using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;

namespace Skein.Ledger.Evm.Contracts;

// SkeinMarket.sol: its deployment, relayed entry points (the signed fields, what the relayer parsed, the signature),
// views and custom errors.

internal sealed class MarketDeployment : ContractDeploymentMessage
{
    public MarketDeployment()
        : base(ContractArtifact.Load("SkeinMarket").Bytecode)
    {
    }

    [Parameter("address", "ledger_", 1)] public string Ledger { get; set; } = "";
    [Parameter("string", "denom_", 2)] public string Denom { get; set; } = "";
    [Parameter("uint256", "baseUnitsPerDenomUnit_", 3)] public BigInteger BaseUnitsPerDenomUnit { get; set; }
    [Parameter("uint64", "blockIntervalMs_", 4)] public ulong BlockIntervalMs { get; set; }
    [Parameter("uint256", "minDeposit_", 5)] public BigInteger MinDeposit { get; set; }
    [Parameter("uint256", "bidDeposit_", 6)] public BigInteger BidDeposit { get; set; }
    [Parameter("uint64", "bidTimeoutBlocks_", 7)] public ulong BidTimeoutBlocks { get; set; }
    [Parameter("uint64", "genesisMs_", 8)] public ulong GenesisMs { get; set; }
}

[Function("link")]
internal sealed class LinkFunction : FunctionMessage
{
    [Parameter("address", "tasks_", 1)] public string Tasks { get; set; } = "";
    [Parameter("address", "market_", 2)] public string Market { get; set; } = "";
    [Parameter("address", "governance_", 3)] public string Governance { get; set; } = "";
}

[Function("market", "address")]
internal sealed class MarketQuery : FunctionMessage;

[Function("relayRegisterProvider")]
internal sealed class RelayRegisterProvider : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("string", "hostUri", 3)] public string HostUri { get; set; } = "";
    [Parameter("string", "attributes", 4)] public string Attributes { get; set; } = "";
    [Parameter("string", "capacity", 5)] public string Capacity { get; set; } = "";
    [Parameter("bytes32[]", "pairs", 6)] public List<byte[]> Pairs { get; set; } = [];
    [Parameter("bytes", "signature", 7)] public byte[] Signature { get; set; } = [];
}

[Function("relaySignProviderAttributes")]
internal sealed class RelaySignProviderAttributes : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("address", "provider", 3)] public string Provider { get; set; } = "";
    [Parameter("string", "attributes", 4)] public string Attributes { get; set; } = "";
    [Parameter("bytes32[]", "pairs", 5)] public List<byte[]> Pairs { get; set; } = [];
    [Parameter("bytes", "signature", 6)] public byte[] Signature { get; set; } = [];
}

[Function("relayCreateDeployment")]
internal sealed class RelayCreateDeployment : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("uint64", "dseq", 3)] public ulong Dseq { get; set; }
    [Parameter("bytes32", "manifestHash", 4)] public byte[] ManifestHash { get; set; } = [];
    [Parameter("string", "groups", 5)] public string Groups { get; set; } = "";
    [Parameter("uint256", "deposit", 6)] public BigInteger Deposit { get; set; }
    [Parameter("bytes32[]", "parsed", 7)] public List<byte[]> Parsed { get; set; } = [];
    [Parameter("bytes", "signature", 8)] public byte[] Signature { get; set; } = [];
}

[Function("relayDepositDeployment")]
internal sealed class RelayDepositDeployment : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("address", "owner", 3)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 4)] public ulong Dseq { get; set; }
    [Parameter("uint256", "amount", 5)] public BigInteger Amount { get; set; }
    [Parameter("bytes", "signature", 6)] public byte[] Signature { get; set; } = [];
}

[Function("relayCloseDeployment")]
internal sealed class RelayCloseDeployment : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("address", "owner", 3)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 4)] public ulong Dseq { get; set; }
    [Parameter("bytes", "signature", 5)] public byte[] Signature { get; set; } = [];
}

/// <summary>The fields every order transaction carries first.</summary>
internal abstract class RelayOrderFunction : FunctionMessage
{
    [Parameter("address", "from", 1)] public string From { get; set; } = "";
    [Parameter("uint64", "nonce", 2)] public ulong TxNonce { get; set; }
    [Parameter("address", "owner", 3)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 4)] public ulong Dseq { get; set; }
    [Parameter("uint32", "gseq", 5)] public uint Gseq { get; set; }
    [Parameter("uint32", "oseq", 6)] public uint Oseq { get; set; }
}

[Function("relayCreateBid")]
internal sealed class RelayCreateBid : RelayOrderFunction
{
    [Parameter("uint256", "price", 7)] public BigInteger Price { get; set; }
    [Parameter("bytes", "signature", 8)] public byte[] Signature { get; set; } = [];
}

[Function("relayCloseBid")]
internal sealed class RelayCloseBid : RelayOrderFunction
{
    [Parameter("bytes", "signature", 7)] public byte[] Signature { get; set; } = [];
}

[Function("relayCreateLease")]
internal sealed class RelayCreateLease : RelayOrderFunction
{
    [Parameter("address", "provider", 7)] public string Provider { get; set; } = "";
    [Parameter("bytes", "signature", 8)] public byte[] Signature { get; set; } = [];
}

[Function("relayWithdrawLease")]
internal sealed class RelayWithdrawLease : RelayOrderFunction
{
    [Parameter("bytes", "signature", 7)] public byte[] Signature { get; set; } = [];
}

[Function("relayCloseLease")]
internal sealed class RelayCloseLease : RelayOrderFunction
{
    [Parameter("address", "provider", 7)] public string Provider { get; set; } = "";
    [Parameter("bytes", "signature", 8)] public byte[] Signature { get; set; } = [];
}

[Function("marketHeight", "uint64")]
internal sealed class MarketHeightQuery : FunctionMessage;

[Function("genesisMs", "uint64")]
internal sealed class GenesisMsQuery : FunctionMessage;

[Function("blockIntervalMs", "uint64")]
internal sealed class BlockIntervalQuery : FunctionMessage;

[Function("minDeposit", "uint256")]
internal sealed class MinDepositQuery : FunctionMessage;

[Function("bidDeposit", "uint256")]
internal sealed class BidDepositQuery : FunctionMessage;

[Function("bidTimeoutBlocks", "uint64")]
internal sealed class BidTimeoutQuery : FunctionMessage;

[Function("baseUnitsPerDenomUnit", "uint256")]
internal sealed class BaseUnitsQuery : FunctionMessage;

[Function("denom", "string")]
internal sealed class DenomQuery : FunctionMessage;

[Function("providerOf")]
internal sealed class ProviderOfQuery : FunctionMessage
{
    [Parameter("address", "provider", 1)] public string Provider { get; set; } = "";
}

[FunctionOutput]
internal sealed class ProviderOfOutput : IFunctionOutputDTO
{
    [Parameter("string", "hostUri", 1)] public string HostUri { get; set; } = "";
    [Parameter("string", "attributes", 2)] public string Attributes { get; set; } = "";
    [Parameter("string", "capacity", 3)] public string Capacity { get; set; } = "";
    [Parameter("uint64", "registeredAt", 4)] public ulong RegisteredAt { get; set; }
    [Parameter("bool", "exists", 5)] public bool Exists { get; set; }
}

[Function("auditsOf")]
internal sealed class AuditsOfQuery : FunctionMessage
{
    [Parameter("address", "provider", 1)] public string Provider { get; set; } = "";
}

[FunctionOutput]
internal sealed class AuditsOfOutput : IFunctionOutputDTO
{
    [Parameter("address[]", "auditors", 1)] public List<string> Auditors { get; set; } = [];
    [Parameter("string[]", "attributes", 2)] public List<string> Attributes { get; set; } = [];
}

[Function("deploymentOf")]
internal sealed class DeploymentOfQuery : FunctionMessage
{
    [Parameter("address", "owner", 1)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 2)] public ulong Dseq { get; set; }
}

[FunctionOutput]
internal sealed class DeploymentOfOutput : IFunctionOutputDTO
{
    [Parameter("tuple", "deployment", 1)] public DeploymentTuple Deployment { get; set; } = new();
}

internal sealed class DeploymentTuple
{
    [Parameter("address", "owner", 1)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 2)] public ulong Dseq { get; set; }
    [Parameter("bytes32", "manifestHash", 3)] public byte[] ManifestHash { get; set; } = [];
    [Parameter("uint8", "status", 4)] public byte Status { get; set; }
    [Parameter("uint8", "closeReason", 5)] public byte CloseReason { get; set; }
    [Parameter("bool", "overdrawn", 6)] public bool Overdrawn { get; set; }
    [Parameter("uint32", "groupCount", 7)] public uint GroupCount { get; set; }
    [Parameter("uint64", "createdAt", 8)] public ulong CreatedAt { get; set; }
    [Parameter("uint64", "closedAt", 9)] public ulong ClosedAt { get; set; }
    [Parameter("uint64", "settledAt", 10)] public ulong SettledAt { get; set; }
    [Parameter("uint256", "balance", 11)] public BigInteger Balance { get; set; }
    [Parameter("uint256", "deposited", 12)] public BigInteger Deposited { get; set; }
    [Parameter("uint256", "transferred", 13)] public BigInteger Transferred { get; set; }
    [Parameter("string", "groups", 14)] public string Groups { get; set; } = "";
}

[Function("groupOf")]
internal sealed class GroupOfQuery : FunctionMessage
{
    [Parameter("address", "owner", 1)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 2)] public ulong Dseq { get; set; }
    [Parameter("uint32", "gseq", 3)] public uint Gseq { get; set; }
}

[FunctionOutput]
internal sealed class GroupOfOutput : IFunctionOutputDTO
{
    [Parameter("uint256", "ceiling", 1)] public BigInteger Ceiling { get; set; }
    [Parameter("uint32", "orderCount", 2)] public uint OrderCount { get; set; }
}

[Function("orderOf")]
internal sealed class OrderOfQuery : FunctionMessage
{
    [Parameter("address", "owner", 1)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 2)] public ulong Dseq { get; set; }
    [Parameter("uint32", "gseq", 3)] public uint Gseq { get; set; }
    [Parameter("uint32", "oseq", 4)] public uint Oseq { get; set; }
}

[FunctionOutput]
internal sealed class OrderOfOutput : IFunctionOutputDTO
{
    [Parameter("uint8", "status", 1)] public byte Status { get; set; }
    [Parameter("uint64", "createdAt", 2)] public ulong CreatedAt { get; set; }
    [Parameter("address", "leaseProvider", 3)] public string LeaseProvider { get; set; } = "";
    [Parameter("address[]", "bidders", 4)] public List<string> Bidders { get; set; } = [];
    [Parameter("tuple[]", "bids", 5)] public List<BidTuple> Bids { get; set; } = [];
    [Parameter("tuple", "lease", 6)] public LeaseTuple Lease { get; set; } = new();
}

internal sealed class BidTuple
{
    [Parameter("uint256", "price", 1)] public BigInteger Price { get; set; }
    [Parameter("uint64", "createdAt", 2)] public ulong CreatedAt { get; set; }
    [Parameter("uint8", "status", 3)] public byte Status { get; set; }
    [Parameter("uint256", "depositHeld", 4)] public BigInteger DepositHeld { get; set; }
}

internal sealed class LeaseTuple
{
    [Parameter("uint256", "price", 1)] public BigInteger Price { get; set; }
    [Parameter("uint64", "startedAt", 2)] public ulong StartedAt { get; set; }
    [Parameter("uint8", "status", 3)] public byte Status { get; set; }
    [Parameter("uint8", "closeReason", 4)] public byte CloseReason { get; set; }
    [Parameter("uint64", "closedAt", 5)] public ulong ClosedAt { get; set; }
    [Parameter("uint256", "accrued", 6)] public BigInteger Accrued { get; set; }
    [Parameter("uint256", "withdrawn", 7)] public BigInteger Withdrawn { get; set; }
}

[Error("UnknownProvider")]
internal sealed class UnknownProviderError
{
    [Parameter("address", "provider", 1)] public string Provider { get; set; } = "";
}

[Error("DeploymentExists")]
internal sealed class DeploymentExistsError
{
    [Parameter("address", "owner", 1)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 2)] public ulong Dseq { get; set; }
}

[Error("DepositTooSmall")]
internal sealed class DepositTooSmallError
{
    [Parameter("uint256", "minimum", 1)] public BigInteger Minimum { get; set; }
    [Parameter("uint256", "deposit", 2)] public BigInteger Deposit { get; set; }
}

[Error("UnknownDeployment")]
internal sealed class UnknownDeploymentError
{
    [Parameter("address", "owner", 1)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 2)] public ulong Dseq { get; set; }
}

[Error("DeploymentClosed")]
internal sealed class DeploymentClosedError
{
    [Parameter("address", "owner", 1)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 2)] public ulong Dseq { get; set; }
    [Parameter("uint8", "reason", 3)] public byte Reason { get; set; }
}

[Error("NotOwner")]
internal sealed class NotOwnerError
{
    [Parameter("address", "owner", 1)] public string Owner { get; set; } = "";
    [Parameter("address", "provider", 2)] public string Provider { get; set; } = "";
}

[Error("UnknownOrder")]
internal sealed class UnknownOrderError
{
    [Parameter("uint8", "kind", 1)] public byte Kind { get; set; }
    [Parameter("uint32", "groups", 2)] public uint Groups { get; set; }
    [Parameter("uint32", "current", 3)] public uint Current { get; set; }
}

[Error("OrderNotOpen")]
internal sealed class OrderNotOpenError
{
    [Parameter("uint8", "status", 1)] public byte Status { get; set; }
}

[Error("BidExists")]
internal sealed class BidExistsError;

[Error("UnknownBid")]
internal sealed class UnknownBidError;

[Error("BidNotOpen")]
internal sealed class BidNotOpenError
{
    [Parameter("uint8", "status", 1)] public byte Status { get; set; }
}

[Error("BidAboveCeiling")]
internal sealed class BidAboveCeilingError
{
    [Parameter("uint256", "price", 1)] public BigInteger Price { get; set; }
    [Parameter("uint256", "ceiling", 2)] public BigInteger Ceiling { get; set; }
}

[Error("RequirementsNotMet")]
internal sealed class RequirementsNotMetError
{
    [Parameter("uint8", "kind", 1)] public byte Kind { get; set; }
}

[Error("UnknownLease")]
internal sealed class UnknownLeaseError
{
    [Parameter("uint8", "kind", 1)] public byte Kind { get; set; }
}

[Error("LeaseNotActive")]
internal sealed class LeaseNotActiveError
{
    [Parameter("uint8", "status", 1)] public byte Status { get; set; }
}

[Error("NotProvider")]
internal sealed class NotProviderError
{
    [Parameter("address", "provider", 1)] public string Provider { get; set; } = "";
}

[Function("settle")]
internal sealed class SettleFunction : FunctionMessage
{
    [Parameter("address", "owner", 1)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 2)] public ulong Dseq { get; set; }
}

[Function("expireBids")]
internal sealed class ExpireBidsFunction : FunctionMessage
{
    [Parameter("address", "owner", 1)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 2)] public ulong Dseq { get; set; }
    [Parameter("uint32", "gseq", 3)] public uint Gseq { get; set; }
    [Parameter("uint32", "oseq", 4)] public uint Oseq { get; set; }
}

[Event("DeploymentTouched")]
internal sealed class DeploymentTouchedEvent : IEventDTO
{
    [Parameter("address", "owner", 1, true)] public string Owner { get; set; } = "";
    [Parameter("uint64", "dseq", 2, true)] public ulong Dseq { get; set; }
}

[Event("ProviderTouched")]
internal sealed class ProviderTouchedEvent : IEventDTO
{
    [Parameter("address", "provider", 1, true)] public string Provider { get; set; } = "";
}
