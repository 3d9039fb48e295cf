// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SkeinRandom} from "./SkeinRandom.sol";

/// @title The Skein ledger's rules on an EVM chain: the token, signed transactions relayed by anyone, stake.
/// @notice Participants sign the same EIP-712 transactions as for the embedded ledger (domain "Skein Ledger", "1",
/// chainId; no verifyingContract, so one signature format serves both backends) and pay no gas: a relayer submits
/// them, and the contract checks the signature, the chain id (through the domain) and the sender's nonce.
/// Token amounts are in base units (18 decimals), as in the embedded ledger.
contract SkeinLedger is ERC20 {
    enum Role { None, Trainer, Validator }

    struct StakeEntry {
        uint256 self;
        uint256 delegated;
    }

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

    struct Unbonding {
        uint256 amount;
        uint64 releaseBlock;
    }

    bytes32 private constant DOMAIN_TYPEHASH = keccak256("EIP712Domain(string name,string version,uint256 chainId)");
    bytes32 private constant TRANSFER_TYPEHASH = keccak256("Transfer(address from,uint64 nonce,address to,uint256 amount)");
    bytes32 private constant STAKE_TYPEHASH = keccak256("Stake(address from,uint64 nonce,uint8 role,uint256 amount)");
    bytes32 private constant UNSTAKE_TYPEHASH = keccak256("Unstake(address from,uint64 nonce,uint8 role,uint256 amount)");
    bytes32 private constant DELEGATE_TYPEHASH = keccak256("Delegate(address from,uint64 nonce,address operator,uint8 role,uint256 amount)");
    bytes32 private constant UNDELEGATE_TYPEHASH = keccak256("Undelegate(address from,uint64 nonce,address operator,uint8 role,uint256 amount)");
    bytes32 private constant CREATE_TASK_TYPEHASH = keccak256(
        "CreateTask(address from,uint64 nonce,bytes32 specHash,uint256 rewardPool,uint32 rounds,uint256 minStake,uint32 trainersPerRound,uint32 validatorsPerRound,uint32 rejectBelow)");
    bytes32 private constant JOIN_TASK_TYPEHASH = keccak256("JoinTask(address from,uint64 nonce,uint64 taskId,uint8 role)");
    uint32 private constant MAX_SCORE = 1_000_000;
    bytes32 private constant OPEN_ROUND_TYPEHASH = keccak256("OpenRound(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 modelHash)");
    bytes32 private constant SUBMIT_TYPEHASH = keccak256("SubmitUpdate(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 updateHash,uint64 samples)");
    bytes32 private constant CLOSE_TRAINING_TYPEHASH = keccak256("CloseTraining(address from,uint64 nonce,uint64 taskId,uint32 round)");
    bytes32 private constant COMMIT_TYPEHASH = keccak256("CommitScores(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 commitment)");
    bytes32 private constant CLOSE_COMMITS_TYPEHASH = keccak256("CloseCommits(address from,uint64 nonce,uint64 taskId,uint32 round)");
    bytes32 private constant REVEAL_TYPEHASH = keccak256("RevealScores(address from,uint64 nonce,uint64 taskId,uint32 round,uint256[] scores,bytes32 salt)");
    bytes32 private constant FINALIZE_TYPEHASH = keccak256("FinalizeRound(address from,uint64 nonce,uint64 taskId,uint32 round,bytes32 newModelHash)");
    bytes32 private constant SCORE_COMMITMENT_TYPEHASH = keccak256("ScoreCommitment(uint64 taskId,uint32 round,address validator,uint256[] scores,bytes32 salt)");
    bytes32 private constant SELECTION_SEED_TYPEHASH = keccak256("SelectionSeed(uint64 taskId,uint32 round,bytes32 previousBlock)");
    bytes32 private constant COMMISSION_TYPEHASH = keccak256("SetCommission(address from,uint64 nonce,uint16 commissionBps)");

    /// @notice Blocks between an unstake or undelegation and the tokens' return to the balance.
    uint64 public immutable unbondingBlocks;

    mapping(address => uint64) public nonces;
    mapping(address => mapping(Role => StakeEntry)) private _stakes;
    mapping(address => mapping(address => mapping(Role => uint256))) public delegations;
    mapping(address => uint16) public commissionBps;
    mapping(address => Unbonding[]) private _unbondings;
    /// @notice Tokens held by this contract for stakes and unbondings, so that the supply stays accounted for.
    uint256 public held;
    uint64 public nextTaskId = 1;
    mapping(uint64 => TaskData) private _tasks;
    mapping(uint64 => mapping(Role => address[])) private _members;
    mapping(uint64 => mapping(Role => mapping(address => bool))) private _isMember;
    Incentives private _incentives;
    /// @notice Rounds settled network-wide (the emission schedule halves by it).
    uint64 public settledRoundsTotal;
    uint256 public emitted;
    uint256 public burned;
    mapping(uint64 => mapping(uint32 => RoundData)) private _rounds;
    mapping(uint64 => mapping(uint32 => mapping(Role => address[]))) private _picked;
    mapping(uint64 => mapping(uint32 => mapping(Role => mapping(address => bool)))) private _isPicked;
    mapping(uint64 => mapping(uint32 => Update[])) private _updates;
    mapping(uint64 => mapping(uint32 => mapping(address => bool))) private _submitted;
    mapping(uint64 => mapping(uint32 => address[])) private _committers;
    mapping(uint64 => mapping(uint32 => mapping(address => bytes32))) private _commitments;
    mapping(uint64 => mapping(uint32 => address[])) private _revealers;
    mapping(uint64 => mapping(uint32 => mapping(address => uint256[]))) private _reveals;
    mapping(uint64 => mapping(uint32 => mapping(address => bool))) private _revealed;
    /// @dev Everyone who ever delegated to an operator in a role (amounts may since be 0).
    mapping(address => mapping(Role => address[])) private _delegators;
    mapping(address => mapping(Role => mapping(address => bool))) private _isDelegator;
    /// @notice Every token staked, own and delegated, in both roles.
    uint256 public staked;

    event Applied(address indexed from, uint64 nonce, bytes32 indexed digest);
    event Staked(address indexed account, Role role, uint256 amount);
    event Unbonded(address indexed account, uint256 amount, uint64 releaseBlock);
    event Released(address indexed account, uint256 amount);

    error BadSignature(address claimed, address recovered);
    error BadNonce(address from, uint64 nonce, uint64 expected);
    /// @dev field: 0 amount, 1 reward_pool, 2 samples (the .NET side words the refusal).
    error InvalidAmount(uint8 field);
    error InsufficientBalance(address account, uint256 needed, uint256 available);
    error InsufficientStake(address account, uint256 needed, uint256 available);
    /// @dev field: an index into EvmRefusals.Fields (codes keep the contract under the 24 KB code size limit).
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

    event Movement(uint64 indexed taskId, uint32 indexed round, address indexed account, string kind, uint256 amount);
    event RoundPhase(uint64 indexed taskId, uint32 indexed round, uint8 phase);

    /// @param accounts Genesis allocations: who holds tokens at the start.
    /// @param amounts Their balances, in base units.
    /// @param unbondingBlocks_ Blocks an unbonding waits.
    constructor(address[] memory accounts, uint256[] memory amounts, uint64 unbondingBlocks_, Incentives memory incentives_) ERC20("Skein", "SKN") {
        if (incentives_.trainerShareBps > 10_000) revert InvalidParameter(0);
        if (incentives_.supermajorityBps <= 5_000 || incentives_.supermajorityBps > 10_000) revert InvalidParameter(1);
        if (incentives_.agreementTolerance == 0) revert InvalidParameter(2);
        if (incentives_.trainerSlashBps > 10_000) revert InvalidParameter(3);
        if (incentives_.validatorNoRevealSlashBps > 10_000) revert InvalidParameter(4);
        if (incentives_.halvingRounds == 0) revert InvalidParameter(5);
        _incentives = incentives_;
        if (accounts.length != amounts.length) revert InvalidParameter(6);
        if (unbondingBlocks_ == 0 || unbondingBlocks_ > 10_000_000) revert InvalidParameter(7);
        unbondingBlocks = unbondingBlocks_;
        for (uint256 i = 0; i < accounts.length; i++) {
            _mint(accounts[i], amounts[i]);
        }
    }

    /// @notice The EIP-712 domain separator, the same as the embedded ledger's for this chain id.
    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("Skein Ledger"), keccak256("1"), block.chainid));
    }

    /// @notice A balance with every unbonding that has matured, as the embedded ledger shows it.
    function balanceOf(address account) public view override returns (uint256) {
        return super.balanceOf(account) + _matured(account);
    }

    function stakeOf(address operator, Role role) external view returns (uint256 self, uint256 delegated) {
        StakeEntry storage s = _stakes[operator][role];
        return (s.self, s.delegated);
    }

    /// @notice Unbondings not yet released: amounts and release blocks.
    function unbondingsOf(address account) external view returns (Unbonding[] memory) {
        return _unbondings[account];
    }

    // ---- relayed transactions: anyone may submit; the signature names who acts ----

    function relayTransfer(address from, uint64 nonce, address to, uint256 amount, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(TRANSFER_TYPEHASH, from, nonce, to, amount)), signature);
        _positive(amount);
        _debit(from, amount);
        _update(from, to, amount);
    }

    function relayStake(address from, uint64 nonce, Role role, uint256 amount, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(STAKE_TYPEHASH, from, nonce, uint8(role), amount)), signature);
        _role(role);
        _positive(amount);
        _debit(from, amount);
        _hold(from, amount);
        _stakes[from][role].self += amount;
        staked += amount;
        emit Staked(from, role, amount);
    }

    function relayUnstake(address from, uint64 nonce, Role role, uint256 amount, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(UNSTAKE_TYPEHASH, from, nonce, uint8(role), amount)), signature);
        _role(role);
        _positive(amount);
        StakeEntry storage s = _stakes[from][role];
        if (amount > s.self) revert InsufficientStake(from, amount, s.self);
        s.self -= amount;
        staked -= amount;
        _startUnbonding(from, amount);
    }

    function relayDelegate(address from, uint64 nonce, address operator, Role role, uint256 amount, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(DELEGATE_TYPEHASH, from, nonce, operator, uint8(role), amount)), signature);
        _role(role);
        if (operator == from) revert InvalidParameter(8);
        _positive(amount);
        _debit(from, amount);
        _hold(from, amount);
        _stakes[operator][role].delegated += amount;
        delegations[from][operator][role] += amount;
        if (!_isDelegator[operator][role][from]) {
            _isDelegator[operator][role][from] = true;
            _delegators[operator][role].push(from);
        }
        staked += amount;
    }

    function relayUndelegate(address from, uint64 nonce, address operator, Role role, uint256 amount, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(UNDELEGATE_TYPEHASH, from, nonce, operator, uint8(role), amount)), signature);
        _role(role);
        _positive(amount);
        uint256 heldByThem = delegations[from][operator][role];
        if (amount > heldByThem) revert InsufficientStake(from, amount, heldByThem);
        delegations[from][operator][role] = heldByThem - amount;
        _stakes[operator][role].delegated -= amount;
        staked -= amount;
        _startUnbonding(from, amount);
    }

    function relaySetCommission(address from, uint64 nonce, uint16 bps, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(COMMISSION_TYPEHASH, from, nonce, bps)), signature);
        if (bps > 10_000) revert InvalidParameter(9);
        commissionBps[from] = bps;
    }

    /// @notice Creates a task whose reward pool is escrowed from the creator's balance.
    function relayCreateTask(
        address from, uint64 nonce, bytes32 specHash, uint256 rewardPool, uint32 rounds, uint256 minStake,
        uint32 trainersPerRound, uint32 validatorsPerRound, uint32 rejectBelow, bytes calldata signature
    ) external {
        _accept(from, nonce, keccak256(abi.encode(CREATE_TASK_TYPEHASH, from, nonce, specHash, rewardPool, rounds, minStake,
            trainersPerRound, validatorsPerRound, rejectBelow)), signature);
        if (rounds == 0 || rounds > 100_000) revert InvalidParameter(10);
        if (trainersPerRound == 0 || trainersPerRound > 10_000) revert InvalidParameter(11);
        if (validatorsPerRound == 0 || validatorsPerRound > 1_000) revert InvalidParameter(12);
        if (rejectBelow > MAX_SCORE) revert InvalidParameter(13);
        if (specHash == bytes32(0)) revert InvalidParameter(14);
        if (rewardPool == 0) revert InvalidAmount(1);
        _debit(from, rewardPool);
        _hold(from, rewardPool);
        uint64 id = nextTaskId++;
        TaskData storage t = _tasks[id];
        t.creator = from;
        t.specHash = specHash;
        t.rewardPool = rewardPool;
        t.escrow = rewardPool;
        t.rounds = rounds;
        t.minStake = minStake;
        t.trainersPerRound = trainersPerRound;
        t.validatorsPerRound = validatorsPerRound;
        t.rejectBelow = rejectBelow;
    }

    /// @notice Joins a task in a role; the sender's stake in that role (own and delegated) must meet the task's minimum.
    function relayJoinTask(address from, uint64 nonce, uint64 taskId, Role role, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(JOIN_TASK_TYPEHASH, from, nonce, taskId, uint8(role))), signature);
        _role(role);
        TaskData storage t = _openTask(taskId);
        StakeEntry storage s = _stakes[from][role];
        uint256 total = s.self + s.delegated;
        if (total < t.minStake) revert InsufficientStake(from, t.minStake, total);
        if (!_isMember[taskId][role][from]) {
            _isMember[taskId][role][from] = true;
            _members[taskId][role].push(from);
        }
    }

    /// @notice A task with its members (in joining order; the embedded ledger lists them sorted).
    function taskOf(uint64 taskId) external view returns (TaskData memory task, address[] memory trainers, address[] memory validators) {
        if (taskId == 0 || taskId >= nextTaskId) revert UnknownTask(taskId);
        return (_tasks[taskId], _members[taskId][Role.Trainer], _members[taskId][Role.Validator]);
    }

    function _openTask(uint64 taskId) private view returns (TaskData storage t) {
        if (taskId == 0 || taskId >= nextTaskId) revert UnknownTask(taskId);
        t = _tasks[taskId];
        if (t.completed) revert TaskCompleted(taskId, t.rounds);
    }


    // ---- rounds: open, submit, close training, commit, close commits, reveal, finalize ----

    function relayOpenRound(address from, uint64 nonce, uint64 taskId, uint32 round, bytes32 modelHash, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(OPEN_ROUND_TYPEHASH, from, nonce, taskId, round, modelHash)), signature);
        TaskData storage t = _openTask(taskId);
        _coordinator(taskId, t, from);
        uint32 expected = t.settledRounds + 1;
        if (round != expected) revert RoundNotOpen(taskId, round, _rounds[taskId][round].phase != 0 ? 0 : 1, expected);
        if (_rounds[taskId][expected].phase != 0 && _rounds[taskId][expected].phase != 4) revert RoundNotOpen(taskId, round, 2, expected);
        if (t.settledRounds > 0 && modelHash != t.modelHash) revert WrongModel(t.settledRounds, t.modelHash);
        bytes32 seed = keccak256(abi.encode(SELECTION_SEED_TYPEHASH, taskId, round, blockhash(block.number - 1)));
        RoundData storage r = _rounds[taskId][round];
        r.phase = 1;
        r.seed = seed;
        r.modelHash = modelHash;
        r.phaseTimes[0] = uint64(block.timestamp) * 1000;
        _pick(taskId, round, Role.Trainer, t.trainersPerRound, t.minStake, seed, "pick/trainers");
        _pick(taskId, round, Role.Validator, t.validatorsPerRound, t.minStake, seed, "pick/validators");
        t.modelHash = modelHash;
        emit RoundPhase(taskId, round, 1);
    }

    function relaySubmitUpdate(address from, uint64 nonce, uint64 taskId, uint32 round, bytes32 updateHash, uint64 samples, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(SUBMIT_TYPEHASH, from, nonce, taskId, round, updateHash, samples)), signature);
        _roundIn(taskId, round, 1);
        if (!_isPicked[taskId][round][Role.Trainer][from]) revert NotPicked(taskId, round, Role.Trainer);
        if (_submitted[taskId][round][from]) revert AlreadySubmitted(taskId, round);
        if (samples == 0) revert InvalidAmount(2);
        if (updateHash == bytes32(0)) revert InvalidParameter(15);
        _submitted[taskId][round][from] = true;
        _updates[taskId][round].push(Update(from, updateHash, samples));
    }

    function relayCloseTraining(address from, uint64 nonce, uint64 taskId, uint32 round, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(CLOSE_TRAINING_TYPEHASH, from, nonce, taskId, round)), signature);
        _advance(from, taskId, round, 1, 2);
    }

    function relayCommitScores(address from, uint64 nonce, uint64 taskId, uint32 round, bytes32 commitment, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(COMMIT_TYPEHASH, from, nonce, taskId, round, commitment)), signature);
        _roundIn(taskId, round, 2);
        if (!_isPicked[taskId][round][Role.Validator][from]) revert NotPicked(taskId, round, Role.Validator);
        if (_commitments[taskId][round][from] != bytes32(0)) revert AlreadySubmitted(taskId, round);
        _commitments[taskId][round][from] = commitment;
        _committers[taskId][round].push(from);
    }

    function relayCloseCommits(address from, uint64 nonce, uint64 taskId, uint32 round, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(CLOSE_COMMITS_TYPEHASH, from, nonce, taskId, round)), signature);
        _advance(from, taskId, round, 2, 3);
    }

    function relayRevealScores(address from, uint64 nonce, uint64 taskId, uint32 round, uint256[] calldata scores, bytes32 salt, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(REVEAL_TYPEHASH, from, nonce, taskId, round, keccak256(abi.encodePacked(scores)), salt)), signature);
        _roundIn(taskId, round, 3);
        bytes32 commitment = _commitments[taskId][round][from];
        if (commitment == bytes32(0)) revert NotCommitted(taskId, round);
        if (_revealed[taskId][round][from]) revert AlreadySubmitted(taskId, round);
        uint256 n = _updates[taskId][round].length;
        if (scores.length != n) revert ScoreForUnknownUpdate(scores.length, n);
        for (uint256 i = 0; i < n; i++) {
            if (scores[i] > MAX_SCORE) revert BadScore(i, scores[i]);
        }
        bytes32 recomputed = keccak256(abi.encode(SCORE_COMMITMENT_TYPEHASH, taskId, round, from, keccak256(abi.encodePacked(scores)), salt));
        if (recomputed != commitment) revert RevealMismatch(recomputed, commitment);
        _revealed[taskId][round][from] = true;
        _reveals[taskId][round][from] = scores;
        _revealers[taskId][round].push(from);
    }

    function relayFinalizeRound(address from, uint64 nonce, uint64 taskId, uint32 round, bytes32 newModelHash, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(FINALIZE_TYPEHASH, from, nonce, taskId, round, newModelHash)), signature);
        TaskData storage t = _openTask(taskId);
        _coordinator(taskId, t, from);
        RoundData storage r = _roundIn(taskId, round, 3);
        if (newModelHash == bytes32(0)) revert InvalidParameter(16);
        _settle(taskId, round, t, r);
        r.newModelHash = newModelHash;
        r.phase = 4;
        r.phaseTimes[3] = uint64(block.timestamp) * 1000;
        t.modelHash = newModelHash;
        t.settledRounds++;
        settledRoundsTotal++;
        emit RoundPhase(taskId, round, 4);
        if (t.settledRounds == t.rounds) {
            uint256 refund = t.escrow;
            t.escrow = 0;
            t.completed = true;
            _payOut(t.creator, refund);
            emit Movement(taskId, round, t.creator, "refund", refund);
        }
    }

    /// @notice A round's state: phase, seed, models, reward, phase times, picked members, updates, committers and revealers.
    function roundOf(uint64 taskId, uint32 round) external view returns (
        RoundData memory data, address[] memory pickedTrainers, address[] memory pickedValidators, Update[] memory updates,
        address[] memory committers, address[] memory revealers
    ) {
        data = _rounds[taskId][round];
        return (data, _picked[taskId][round][Role.Trainer], _picked[taskId][round][Role.Validator], _updates[taskId][round],
            _committers[taskId][round], _revealers[taskId][round]);
    }

    function scoresOf(uint64 taskId, uint32 round, address validator) external view returns (uint256[] memory) {
        return _reveals[taskId][round][validator];
    }

    function _pick(uint64 taskId, uint32 round, Role role, uint32 count, uint256 minStake, bytes32 seed, bytes memory purpose) private {
        address[] storage members = _members[taskId][role];
        address[] memory eligible = new address[](members.length);
        uint256 n;
        for (uint256 i = 0; i < members.length; i++) {
            StakeEntry storage st = _stakes[members[i]][role];
            if (st.self + st.delegated >= minStake) eligible[n++] = members[i];
        }
        assembly { mstore(eligible, n) }
        SkeinRandom.sortAddresses(eligible);
        address[] memory chosen = SkeinRandom.pick(eligible, count, seed, purpose);
        for (uint256 i = 0; i < chosen.length; i++) {
            _picked[taskId][round][role].push(chosen[i]);
            _isPicked[taskId][round][role][chosen[i]] = true;
        }
    }

    function _coordinator(uint64 taskId, TaskData storage t, address from) private view {
        if (from != t.creator) revert NotCoordinator(taskId, t.creator);
    }

    function _roundIn(uint64 taskId, uint32 round, uint8 phase) private view returns (RoundData storage r) {
        _openTask(taskId);
        r = _rounds[taskId][round];
        if (r.phase == 0) revert RoundNotOpen(taskId, round, 3, 0);
        if (r.phase != phase) {
            if (r.phase == 4) revert RoundNotOpen(taskId, round, 4, 0);
            revert WrongPhase(taskId, round, r.phase);
        }
    }

    function _advance(address from, uint64 taskId, uint32 round, uint8 fromPhase, uint8 toPhase) private {
        TaskData storage t = _openTask(taskId);
        _coordinator(taskId, t, from);
        RoundData storage r = _roundIn(taskId, round, fromPhase);
        r.phase = toPhase;
        r.phaseTimes[toPhase - 1] = uint64(block.timestamp) * 1000;
        emit RoundPhase(taskId, round, toPhase);
    }

    // ---- settlement: docs/incentives.md, as Skein.Ledger.Incentives.RoundSettlement computes it ----

    struct Settlement {
        uint256 totalWeight;
        uint256[] weights;
        uint256[] consensus;
        bool[] accepted;
        bool[] rejected;
        uint256 trainerPool;
        uint256 validatorPool;
        uint256 paid;
        uint256 emission;
        uint256 poolShare;
    }

    function _settle(uint64 taskId, uint32 round, TaskData storage t, RoundData storage r) private {
        Incentives memory p = _incentives;
        Update[] storage updates = _updates[taskId][round];
        address[] memory revealers = _revealers[taskId][round];
        SkeinRandom.sortAddresses(revealers);
        Settlement memory s;
        s.poolShare = round < t.rounds ? t.rewardPool / t.rounds : t.rewardPool - (t.rewardPool / t.rounds) * (t.rounds - 1);
        uint64 halvings = settledRoundsTotal / p.halvingRounds;
        s.emission = halvings > 127 ? 0 : p.emissionPerRound >> halvings;
        uint256 reward = s.poolShare + s.emission;
        s.weights = new uint256[](revealers.length);
        for (uint256 v = 0; v < revealers.length; v++) {
            StakeEntry storage st = _stakes[revealers[v]][Role.Validator];
            s.weights[v] = st.self + st.delegated;
            s.totalWeight += s.weights[v];
        }
        uint256 n = updates.length;
        s.consensus = new uint256[](n);
        s.accepted = new bool[](n);
        s.rejected = new bool[](n);
        for (uint256 u = 0; u < n; u++) {
            uint256 rejectWeight;
            uint256[] memory votes = new uint256[](revealers.length);
            for (uint256 v = 0; v < revealers.length; v++) {
                votes[v] = _reveals[taskId][round][revealers[v]][u];
                if (votes[v] < t.rejectBelow) rejectWeight += s.weights[v];
            }
            s.consensus[u] = s.totalWeight > 0 ? _weightedMedian(votes, s.weights, revealers, s.totalWeight) : 0;
            s.rejected[u] = s.totalWeight > 0 && rejectWeight * 10_000 >= s.totalWeight * p.supermajorityBps;
            s.accepted[u] = !s.rejected[u] && s.consensus[u] > 0;
        }
        s.trainerPool = reward * p.trainerShareBps / 10_000;
        s.validatorPool = reward - s.trainerPool;
        _payTrainers(taskId, round, updates, s);
        _payValidators(taskId, round, revealers, s, p, n);
        uint256 minted = s.emission < s.paid ? s.emission : s.paid;
        uint256 undistributed = reward - s.paid;
        uint256 returned = undistributed - (s.emission - minted);
        // The payouts came out of what the contract holds; the emission they used is minted into it.
        if (minted > 0) {
            _mint(address(this), minted);
            held += minted;
            emitted += minted;
        }
        t.escrow = t.escrow - s.poolShare + returned;
        r.reward = reward;
        // Slashes: trainers with a rejected update (once each, in update order), validators that committed but did not reveal.
        for (uint256 u = 0; u < n; u++) {
            if (s.rejected[u] && _firstRejected(updates, s.rejected, u)) {
                _slash(taskId, round, updates[u].trainer, Role.Trainer, p.trainerSlashBps);
            }
        }
        address[] memory committers = _committers[taskId][round];
        SkeinRandom.sortAddresses(committers);
        for (uint256 i = 0; i < committers.length; i++) {
            if (!_revealed[taskId][round][committers[i]]) _slash(taskId, round, committers[i], Role.Validator, p.validatorNoRevealSlashBps);
        }
    }

    function _firstRejected(Update[] storage updates, bool[] memory rejected, uint256 u) private view returns (bool) {
        for (uint256 i = 0; i < u; i++) {
            if (rejected[i] && updates[i].trainer == updates[u].trainer) return false;
        }
        return true;
    }

    function _payTrainers(uint64 taskId, uint32 round, Update[] storage updates, Settlement memory s) private {
        uint256 total;
        uint256 n = updates.length;
        for (uint256 u = 0; u < n; u++) {
            if (s.accepted[u]) total += s.consensus[u] * updates[u].samples;
        }
        if (total == 0) return;
        // Pay in address order, as the embedded ledger's sorted rewards do (each trainer submits once a round).
        address[] memory trainers = new address[](n);
        for (uint256 u = 0; u < n; u++) trainers[u] = updates[u].trainer;
        SkeinRandom.sortAddresses(trainers);
        for (uint256 i = 0; i < n; i++) {
            for (uint256 u = 0; u < n; u++) {
                if (updates[u].trainer != trainers[i] || !s.accepted[u]) continue;
                uint256 amount = Math.mulDiv(s.trainerPool, s.consensus[u] * updates[u].samples, total);
                if (amount > 0) {
                    s.paid += amount;
                    _reward(taskId, round, trainers[i], Role.Trainer, amount);
                }
            }
        }
    }

    function _payValidators(uint64 taskId, uint32 round, address[] memory revealers, Settlement memory s, Incentives memory p, uint256 n) private {
        uint256[] memory earning = new uint256[](revealers.length);
        uint256 totalEarning;
        for (uint256 v = 0; v < revealers.length; v++) {
            uint256 a = 10_000;
            if (n > 0) {
                uint256 sum;
                for (uint256 u = 0; u < n; u++) {
                    uint256 score = _reveals[taskId][round][revealers[v]][u];
                    uint256 distance = score >= s.consensus[u] ? score - s.consensus[u] : s.consensus[u] - score;
                    uint256 kept = p.agreementTolerance - (distance < p.agreementTolerance ? distance : p.agreementTolerance);
                    sum += kept * 10_000 / p.agreementTolerance;
                }
                a = sum / n;
            }
            earning[v] = s.weights[v] * a;
            totalEarning += earning[v];
        }
        if (totalEarning == 0) return;
        for (uint256 v = 0; v < revealers.length; v++) {
            uint256 amount = Math.mulDiv(s.validatorPool, earning[v], totalEarning);
            if (amount > 0) {
                s.paid += amount;
                _reward(taskId, round, revealers[v], Role.Validator, amount);
            }
        }
    }

    /// @dev The lower stake-weighted median: sorted by (score, validator), the first score where cumulative * 2 >= total.
    function _weightedMedian(uint256[] memory scores, uint256[] memory weights, address[] memory validators, uint256 total) private pure returns (uint256) {
        uint256 m = scores.length;
        uint256[] memory order = new uint256[](m);
        for (uint256 i = 0; i < m; i++) order[i] = i;
        for (uint256 i = 1; i < m; i++) {
            uint256 x = order[i];
            uint256 j = i;
            while (j > 0 && (scores[order[j - 1]] > scores[x] || (scores[order[j - 1]] == scores[x] && uint160(validators[order[j - 1]]) > uint160(validators[x])))) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = x;
        }
        uint256 cumulative;
        for (uint256 i = 0; i < m; i++) {
            cumulative += weights[order[i]];
            if (cumulative >= total - cumulative) return scores[order[i]];
        }
        return scores[order[m - 1]];
    }

    /// @dev StakeSplit.Reward: delegators pro rata, commission on their part to the operator, the operator the rest.
    function _reward(uint64 taskId, uint32 round, address operator, Role role, uint256 amount) private {
        (address[] memory delegators, uint256[] memory held_, uint256 delegated) = _delegationsTo(operator, role);
        uint256 self = _stakes[operator][role].self;
        uint256 total = self + delegated;
        uint256 toDelegators;
        if (total > 0 && delegated > 0) {
            uint256 delegatorsPart = Math.mulDiv(amount, delegated, total);
            uint256 shared = delegatorsPart - delegatorsPart * commissionBps[operator] / 10_000;
            for (uint256 i = 0; i < delegators.length; i++) {
                uint256 part = Math.mulDiv(shared, held_[i], delegated);
                if (part > 0) {
                    toDelegators += part;
                    _payOut(delegators[i], part);
                    emit Movement(taskId, round, delegators[i], "delegator reward", part);
                }
            }
        }
        _payOut(operator, amount - toDelegators);
        emit Movement(taskId, round, operator, role == Role.Trainer ? "trainer reward" : "validator reward", amount - toDelegators);
    }

    /// @dev StakeSplit.Slash: pro rata from each delegation (floored), the rest from self stake, dust from delegations in order.
    function _slash(uint64 taskId, uint32 round, address operator, Role role, uint32 bps) private {
        StakeEntry storage st = _stakes[operator][role];
        uint256 total = st.self + st.delegated;
        uint256 amount = total * bps / 10_000;
        if (amount == 0) return;
        (address[] memory delegators, uint256[] memory held_,) = _delegationsTo(operator, role);
        uint256 take = amount < total ? amount : total;
        uint256[] memory parts = new uint256[](delegators.length);
        uint256 taken;
        for (uint256 i = 0; i < delegators.length; i++) {
            parts[i] = Math.mulDiv(take, held_[i], total);
            taken += parts[i];
        }
        uint256 fromSelf = st.self < take - taken ? st.self : take - taken;
        uint256 remainder = take - taken - fromSelf;
        for (uint256 i = 0; i < delegators.length && remainder > 0; i++) {
            uint256 room = held_[i] - parts[i];
            uint256 more = remainder < room ? remainder : room;
            parts[i] += more;
            remainder -= more;
        }
        st.self -= fromSelf;
        uint256 gone = fromSelf;
        for (uint256 i = 0; i < delegators.length; i++) {
            if (parts[i] == 0) continue;
            delegations[delegators[i]][operator][role] -= parts[i];
            st.delegated -= parts[i];
            gone += parts[i];
            emit Movement(taskId, round, delegators[i], "delegator slash", parts[i]);
        }
        staked -= gone;
        held -= gone;
        burned += gone;
        _burn(address(this), gone);
        emit Movement(taskId, round, operator, role == Role.Trainer ? "trainer slash" : "validator slash", fromSelf);
    }

    /// @dev Delegations to an operator in a role with a non-zero amount, in delegator address order.
    function _delegationsTo(address operator, Role role) private view returns (address[] memory who, uint256[] memory amounts, uint256 total) {
        address[] memory all = _delegators[operator][role];
        SkeinRandom.sortAddresses(all);
        uint256 n;
        for (uint256 i = 0; i < all.length; i++) {
            if (delegations[all[i]][operator][role] > 0) n++;
        }
        who = new address[](n);
        amounts = new uint256[](n);
        uint256 k;
        for (uint256 i = 0; i < all.length; i++) {
            uint256 a = delegations[all[i]][operator][role];
            if (a > 0) {
                who[k] = all[i];
                amounts[k++] = a;
                total += a;
            }
        }
    }

    function _payOut(address to, uint256 amount) private {
        if (amount == 0) return;
        held -= amount;
        _update(address(this), to, amount);
    }

    // ---- the plain ERC-20 entry points move only what the caller owns, as any token does ----

    function transfer(address to, uint256 value) public override returns (bool) {
        _debit(msg.sender, value);
        return super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        _debit(from, value);
        return super.transferFrom(from, to, value);
    }

    // ---- rules ----

    /// @dev Checks the signature over the EIP-712 digest and the nonce, then uses the nonce up. Every check of a
    /// transaction runs before its first change, and a revert undoes everything, so a refusal changes nothing.
    function _accept(address from, uint64 nonce, bytes32 structHash, bytes calldata signature) private {
        bytes32 digest = MessageHashUtils.toTypedDataHash(domainSeparator(), structHash);
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError || recovered != from) revert BadSignature(from, recovered);
        uint64 expected = nonces[from];
        if (nonce != expected) revert BadNonce(from, nonce, expected);
        nonces[from] = expected + 1;
        emit Applied(from, nonce, digest);
    }

    /// @dev Releases the account's matured unbondings into its spendable balance, then checks it covers the debit.
    function _debit(address account, uint256 amount) private {
        _release(account);
        uint256 available = super.balanceOf(account);
        if (amount > available) revert InsufficientBalance(account, amount, available);
    }

    function _hold(address from, uint256 amount) private {
        held += amount;
        _update(from, address(this), amount);
    }

    function _startUnbonding(address account, uint256 amount) private {
        uint64 release = uint64(block.number) + unbondingBlocks;
        _unbondings[account].push(Unbonding(amount, release));
        emit Unbonded(account, amount, release);
    }

    function _release(address account) private {
        Unbonding[] storage list = _unbondings[account];
        uint256 total;
        uint256 i;
        while (i < list.length) {
            if (list[i].releaseBlock <= block.number) {
                total += list[i].amount;
                list[i] = list[list.length - 1];
                list.pop();
            } else {
                i++;
            }
        }
        if (total > 0) {
            held -= total;
            _update(address(this), account, total);
            emit Released(account, total);
        }
    }

    function _matured(address account) private view returns (uint256 total) {
        Unbonding[] storage list = _unbondings[account];
        for (uint256 i = 0; i < list.length; i++) {
            if (list[i].releaseBlock <= block.number) total += list[i].amount;
        }
    }

    function _positive(uint256 amount) private pure {
        if (amount == 0) revert InvalidAmount(0);
    }

    function _role(Role role) private pure {
        if (role != Role.Trainer && role != Role.Validator) revert InvalidParameter(17);
    }
}
