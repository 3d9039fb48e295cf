// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Role} from "./SkeinTypes.sol";

/// @notice What SkeinTasks needs of SkeinLedger: signatures and nonces, escrow, stakes, payouts, slashes, emission.
interface ISkeinLedger {
    function accept(address from, uint64 nonce, bytes32 structHash, bytes calldata signature) external;
    function escrow(address from, uint256 amount) external;
    function stakeOf(address operator, Role role) external view returns (uint256 self, uint256 delegated);
    function reward(address operator, Role role, uint256 amount, uint64 taskId, uint32 round) external;
    function slash(address operator, Role role, uint32 bps, uint64 taskId, uint32 round) external;
    function mint(uint256 amount) external;
    function mintTreasury(uint256 emission) external returns (uint256);
    function taskApproval() external view returns (bool);
    function governance() external view returns (address);
    function market() external view returns (address);
}

/// @notice The market's clock: whole block intervals of chain time since genesis (what leases pay by, and phase deadlines count in).
interface ISkeinMarketClock {
    function marketHeight() external view returns (uint64);
}

/// @notice What SkeinTasks runs of SkeinTasksLiveness inside its own storage (delegatecall): the liveness hooks.
interface ISkeinTasksHooks {
    function phaseOpened(uint64 taskId, uint32 round) external;
    function mayClose(uint64 taskId, uint32 round, address from) external view;
}

/// @title The state SkeinTasks and its liveness extension share: both are compiled over this one layout, and
/// SkeinTasks runs SkeinTasksLiveness's code in its own storage (delegatecall), so that the tasks' rules fit in the
/// EIP-170 size of one contract.
abstract contract SkeinTasksBase {
    struct TaskData {
        address creator;
        bytes32 specHash;
        uint256 rewardPool;
        uint256 escrow;
        uint32 rounds;
        uint32 settledRounds;
        bool completed;
        uint256 minStake;
        uint32 trainersPerRound;
        uint32 validatorsPerRound;
        uint32 rejectBelow;
        bytes32 modelHash;
    }

    struct Incentives {
        uint32 trainerShareBps;
        uint32 supermajorityBps;
        uint64 agreementTolerance;
        uint32 trainerSlashBps;
        uint32 validatorNoRevealSlashBps;
        uint256 emissionPerRound;
        uint64 halvingRounds;
    }

    struct Update {
        address trainer;
        bytes32 updateHash;
        uint64 samples;
    }

    struct RoundData {
        uint8 phase; // 0: none, 1: training, 2: committing, 3: revealing, 4: settled
        bytes32 seed;
        bytes32 modelHash;
        bytes32 newModelHash;
        uint256 reward;
        uint64[4] phaseTimes;
    }

    bytes32 internal constant CREATE_TASK_TYPEHASH = keccak256(
        "CreateTask(address from,uint64 nonce,bytes32 specHash,uint256 rewardPool,uint32 rounds,uint256 minStake,uint32 trainersPerRound,uint32 validatorsPerRound,uint32 rejectBelow)");
    bytes32 internal constant JOIN_TASK_TYPEHASH = keccak256("JoinTask(address from,uint64 nonce,uint64 taskId,uint8 role)");
    uint32 internal constant MAX_SCORE = 1_000_000;
    bytes32 internal constant OPEN_ROUND_TYPEHASH = keccak256("OpenRound(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 modelHash)");
    bytes32 internal constant SUBMIT_TYPEHASH = keccak256("SubmitUpdate(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 updateHash,uint64 samples)");
    bytes32 internal constant CLOSE_TRAINING_TYPEHASH = keccak256("CloseTraining(address from,uint64 nonce,uint64 taskId,uint32 round)");
    bytes32 internal constant COMMIT_TYPEHASH = keccak256("CommitScores(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 commitment)");
    bytes32 internal constant CLOSE_COMMITS_TYPEHASH = keccak256("CloseCommits(address from,uint64 nonce,uint64 taskId,uint32 round)");
    bytes32 internal constant REVEAL_TYPEHASH = keccak256("RevealScores(address from,uint64 nonce,uint64 taskId,uint32 round,uint256[] scores,bytes32 salt)");
    bytes32 internal constant FINALIZE_TYPEHASH = keccak256("FinalizeRound(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 newModelHash)");
    bytes32 internal constant SCORE_COMMITMENT_TYPEHASH = keccak256("ScoreCommitment(uint64 taskId,uint32 round,address validator,uint256[] scores,bytes32 salt)");
    bytes32 internal constant SELECTION_SEED_TYPEHASH = keccak256("SelectionSeed(uint64 taskId,uint32 round,bytes32 previousBlock)");

    ISkeinLedger public immutable ledger;
    IERC20 internal immutable _token;
    Incentives internal _incentives;
    /// @notice Rounds settled network-wide (the emission schedule halves by it).
    uint64 public settledRoundsTotal;
    uint64 public nextTaskId = 1;
    mapping(uint64 => TaskData) internal _tasks;
    mapping(uint64 => mapping(Role => address[])) internal _members;
    // A member's position in _members plus one (0: not a member): the index of its bit in a round's picked set.
    mapping(uint64 => mapping(Role => mapping(address => uint256))) internal _memberIndex;
    mapping(uint64 => mapping(uint32 => RoundData)) internal _rounds;
    mapping(uint64 => mapping(uint32 => mapping(Role => address[]))) internal _picked;
    // Who a round picked, as bits over the members (bit i of word i / 256: member i): a word per 256 members instead of a word per pick.
    mapping(uint64 => mapping(uint32 => mapping(Role => mapping(uint256 => uint256)))) internal _pickedBits;
    mapping(uint64 => mapping(uint32 => Update[])) internal _updates;
    mapping(uint64 => mapping(uint32 => mapping(address => bool))) internal _submitted;
    mapping(uint64 => mapping(uint32 => address[])) internal _committers;
    mapping(uint64 => mapping(uint32 => mapping(address => bytes32))) internal _commitments;
    mapping(uint64 => mapping(uint32 => address[])) internal _revealers;
    // Scores are at most MAX_SCORE (10^6), so they are stored as uint32, eight to a storage word: a tenth of the gas
    // of a word per score, when revealing and again when settlement reads every score.
    mapping(uint64 => mapping(uint32 => mapping(address => uint32[]))) internal _reveals;
    mapping(uint64 => mapping(uint32 => mapping(address => bool))) internal _revealed;
    /// @notice 0: the task needs no approval; 1: it awaits a passed task_approval proposal; 2: approved; 3: refused (closed, pool returned).
    mapping(uint64 => uint8) public approval;

    // ---- liveness (docs/incentives.md, "Liveness"): SkeinTasksLiveness's rules, kept here ----

    struct Liveness {
        bool cancelled;
        uint64 lastProgress; // market height of the task's creation or latest phase change
        uint256 refunded;
    }

    struct LivenessRules {
        uint64 trainingBlocks;
        uint64 commitBlocks;
        uint64 revealBlocks;
        uint64 abandonBlocks;
    }

    LivenessRules internal _livenessRules;
    /// @dev The coordinator a task's creator handed it to (zero: the creator coordinates).
    mapping(uint64 => address) internal _coordinators;
    mapping(uint64 => Liveness) internal _liveness;
    /// @dev The market height from which anyone staked in the task may close a round's current phase (0: settled).
    mapping(uint64 => mapping(uint32 => uint64)) internal _deadlines;
    /// @dev Members who left: kept in _members (their index is their bit in the picked sets) but no longer picked.
    mapping(uint64 => mapping(Role => mapping(address => bool))) internal _left;
    /// @dev Whether any member ever left the task in a role: until one does, a round's pick reads no _left flag.
    mapping(uint64 => mapping(Role => bool)) internal _anyLeft;
    /// @dev The tasks an operator ever joined in a role: what its stake may be bound to.
    mapping(address => mapping(Role => uint64[])) internal _memberTasks;

    error InvalidAmount(uint8 field);
    error InsufficientStake(address account, uint256 needed, uint256 available);
    error InvalidParameter(uint8 field);
    error UnknownTask(uint64 taskId);
    error TaskCompleted(uint64 taskId, uint32 rounds);
    error NotCoordinator(uint64 taskId, address coordinator);
    /// @dev kind 0: already open or settled; 1: not the next round (expected); 2: already open; 3: not open; 4: settled.
    error RoundNotOpen(uint64 taskId, uint32 round, uint8 kind, uint32 expected);
    error WrongPhase(uint64 taskId, uint32 round, uint8 phase);
    error NotPicked(uint64 taskId, uint32 round, Role role);
    error AlreadySubmitted(uint64 taskId, uint32 round);
    error NotCommitted(uint64 taskId, uint32 round);
    error ScoreForUnknownUpdate(uint256 scores, uint256 updates);
    error RevealMismatch(bytes32 recomputed, bytes32 commitment);
    error BadScore(uint256 index, uint256 score);
    error WrongModel(uint32 settledRounds, bytes32 modelHash);
    error AwaitingApproval(uint64 taskId);
    error NotGovernance(address caller);
    error NotYetDue(uint64 taskId, uint64 due, uint64 height);
    error NotMember(uint64 taskId, address account);
    error NotCreator(uint64 taskId, address creator);
    error TaskCancelled(uint64 taskId);

    event Movement(uint64 indexed taskId, uint32 indexed round, address indexed account, string kind, uint256 amount, address operator);
    event RoundPhase(uint64 indexed taskId, uint32 indexed round, uint8 phase);
    /// @notice The verdict on one update (in submission order) of a settled round, and the reward it earned.
    event Verdict(uint64 indexed taskId, uint32 indexed round, uint256 index, uint256 consensus, bool accepted, uint256 reward);

    constructor(ISkeinLedger ledger_) {
        ledger = ledger_;
        _token = IERC20(address(ledger_));
    }

    function _openTask(uint64 taskId) internal view returns (TaskData storage t) {
        if (taskId == 0 || taskId >= nextTaskId) revert UnknownTask(taskId);
        t = _tasks[taskId];
        if (t.completed) {
            if (_liveness[taskId].cancelled) revert TaskCancelled(taskId);
            revert TaskCompleted(taskId, t.rounds);
        }
    }

    function _isPicked(uint64 taskId, uint32 round, Role role, address who) internal view returns (bool) {
        uint256 m = _memberIndex[taskId][role][who];
        return m != 0 && (_pickedBits[taskId][round][role][(m - 1) >> 8] >> ((m - 1) & 255)) & 1 == 1;
    }

    function _coordinatorOf(uint64 taskId, TaskData storage t) internal view returns (address) {
        address c = _coordinators[taskId];
        return c == address(0) ? t.creator : c;
    }

    function _role(Role role) internal pure {
        if (role != Role.Trainer && role != Role.Validator) revert InvalidParameter(17);
    }
}
