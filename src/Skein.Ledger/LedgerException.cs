namespace Skein.Ledger;

/// <summary>Why the ledger refused something; stable codes that clients can act on.</summary>
public enum LedgerError
{
    InvalidGenesis,
    WrongChain,
    BadSignature,
    BadNonce,
    InvalidAmount,
    InsufficientBalance,
    InsufficientStake,
    InvalidParameter,
    UnknownTask,
    TaskCompleted,
    NotCoordinator,
    NotMember,
    RoundNotOpen,
    WrongPhase,
    NotPicked,
    AlreadySubmitted,
    ScoreForUnknownUpdate,
    RevealMismatch,
    NotCommitted,
    CorruptStore,
    WrongDenom,
    UnknownProvider,
    UnknownDeployment,
    DeploymentExists,
    DeploymentClosed,
    UnknownOrder,
    OrderNotOpen,
    UnknownBid,
    BidExists,
    BidNotOpen,
    BidAboveCeiling,
    RequirementsNotMet,
    UnknownLease,
    LeaseNotActive,
    NotOwner,
    NotProvider,
    DepositTooSmall,
    UnknownProposal,
    VotingClosed,
    NoVotingPower,
    AwaitingApproval,
    NotYetDue,
    StakeBonded,
    TaskCancelled,
    ChainInUse,
}

/// <summary>A refusal by the ledger: a code and a message that names the field and the rule broken.</summary>
public sealed class LedgerException(LedgerError code, string message) : Exception(message)
{
    public LedgerError Code { get; } = code;
}
