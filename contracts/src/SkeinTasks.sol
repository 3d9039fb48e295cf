// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SkeinRandom} from "./SkeinRandom.sol";
import {Role} from "./SkeinTypes.sol";
import {ISkeinLedger, ISkeinTasksHooks, SkeinTasksBase} from "./SkeinTasksBase.sol";

/// @title Skein's tasks and rounds on an EVM chain: tasks with an escrowed reward pool, members, and rounds from
/// opening (the seeded pick) to settlement (stake-weighted consensus, verdicts, rewards, slashes, emission), as
/// Skein.Ledger.State.RoundRules and Skein.Ledger.Incentives.RoundSettlement compute them. Participants' signed
/// transactions are checked by SkeinLedger, which also holds the token and the stakes. Deadlines, cancelling,
/// handover and leaving are SkeinTasksLiveness's code, run in this contract's storage.
contract SkeinTasks is SkeinTasksBase {
    /// @notice The liveness rules' code (SkeinTasksLiveness, deployed with the same ledger), run in this contract's storage.
    address public immutable extension;

    constructor(ISkeinLedger ledger_, Incentives memory incentives_, address extension_, LivenessRules memory liveness_) SkeinTasksBase(ledger_) {
        if (incentives_.trainerShareBps > 10_000) revert InvalidParameter(0);
        if (incentives_.supermajorityBps <= 5_000 || incentives_.supermajorityBps > 10_000) revert InvalidParameter(1);
        if (incentives_.agreementTolerance == 0) revert InvalidParameter(2);
        if (incentives_.trainerSlashBps > 10_000) revert InvalidParameter(3);
        if (incentives_.validatorNoRevealSlashBps > 10_000) revert InvalidParameter(4);
        if (incentives_.halvingRounds == 0) revert InvalidParameter(5);
        _incentives = incentives_;
        extension = extension_;
        _livenessRules = liveness_;
    }

    /// @notice Every other function (cancel, handover, leave, the liveness views and the bond) is SkeinTasksLiveness's, run here.
    fallback() external {
        // The hook that writes state runs only from this contract's own rules, never on a caller's say.
        if (msg.sig == ISkeinTasksHooks.phaseOpened.selector) revert NotGovernance(msg.sender);
        address ext = extension;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), ext, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    function _hook(bytes memory call) private {
        (bool ok, bytes memory reason) = extension.delegatecall(call);
        if (!ok) {
            assembly ("memory-safe") { revert(add(reason, 32), mload(reason)) }
        }
    }

    /// @notice Creates a task whose reward pool is escrowed from the creator's balance.
    function relayCreateTask(
        address from, uint64 nonce, bytes32 specHash, uint256 rewardPool, uint32 rounds, uint256 minStake,
        uint32 trainersPerRound, uint32 validatorsPerRound, uint32 rejectBelow, bytes calldata signature
    ) external {
        ledger.accept(from, nonce, keccak256(abi.encode(CREATE_TASK_TYPEHASH, from, nonce, specHash, rewardPool, rounds, minStake,
            trainersPerRound, validatorsPerRound, rejectBelow)), signature);
        if (rounds == 0 || rounds > 100_000) revert InvalidParameter(10);
        if (trainersPerRound == 0 || trainersPerRound > 10_000) revert InvalidParameter(11);
        if (validatorsPerRound == 0 || validatorsPerRound > 1_000) revert InvalidParameter(12);
        if (rejectBelow > MAX_SCORE) revert InvalidParameter(13);
        if (specHash == bytes32(0)) revert InvalidParameter(14);
        if (rewardPool == 0) revert InvalidAmount(1);
        ledger.escrow(from, rewardPool);
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
        if (ledger.taskApproval()) approval[id] = 1;
        _hook(abi.encodeCall(ISkeinTasksHooks.phaseOpened, (id, 0)));
    }

    /// @notice Joins a task in a role; the sender's stake in that role (own and delegated) must meet the task's minimum.
    function relayJoinTask(address from, uint64 nonce, uint64 taskId, Role role, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(JOIN_TASK_TYPEHASH, from, nonce, taskId, uint8(role))), signature);
        _role(role);
        TaskData storage t = _openTask(taskId);
        (uint256 own, uint256 delegated) = ledger.stakeOf(from, role);
        uint256 total = own + delegated;
        if (total < t.minStake) revert InsufficientStake(from, t.minStake, total);
        if (_memberIndex[taskId][role][from] == 0) {
            _members[taskId][role].push(from);
            _memberIndex[taskId][role][from] = _members[taskId][role].length;
            _memberTasks[from][role].push(taskId);
        }
        _left[taskId][role][from] = false;
    }

    /// @notice A task with its members (in joining order; the embedded ledger lists them sorted).
    function taskOf(uint64 taskId) external view returns (TaskData memory task, address[] memory trainers, address[] memory validators) {
        if (taskId == 0 || taskId >= nextTaskId) revert UnknownTask(taskId);
        return (_tasks[taskId], _members[taskId][Role.Trainer], _members[taskId][Role.Validator]);
    }

    /// @notice A task without its members (cheap for governance's checks).
    function taskData(uint64 taskId) external view returns (TaskData memory) {
        if (taskId == 0 || taskId >= nextTaskId) revert UnknownTask(taskId);
        return _tasks[taskId];
    }

    // ---- rounds: open, submit, close training, commit, close commits, reveal, finalize ----

    function relayOpenRound(address from, uint64 nonce, uint64 taskId, uint32 round, bytes32 modelHash, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(OPEN_ROUND_TYPEHASH, from, nonce, taskId, round, modelHash)), signature);
        TaskData storage t = _openTask(taskId);
        _coordinator(taskId, t, from);
        if (approval[taskId] == 1) revert AwaitingApproval(taskId);
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
        _hook(abi.encodeCall(ISkeinTasksHooks.phaseOpened, (taskId, round)));
        emit RoundPhase(taskId, round, 1);
    }

    function relaySubmitUpdate(address from, uint64 nonce, uint64 taskId, uint32 round, bytes32 updateHash, uint64 samples, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(SUBMIT_TYPEHASH, from, nonce, taskId, round, updateHash, samples)), signature);
        _roundIn(taskId, round, 1);
        if (!_isPicked(taskId, round, Role.Trainer, from)) revert NotPicked(taskId, round, Role.Trainer);
        if (_submitted[taskId][round][from]) revert AlreadySubmitted(taskId, round);
        if (samples == 0) revert InvalidAmount(2);
        if (updateHash == bytes32(0)) revert InvalidParameter(15);
        _submitted[taskId][round][from] = true;
        _updates[taskId][round].push(Update(from, updateHash, samples));
    }

    function relayCloseTraining(address from, uint64 nonce, uint64 taskId, uint32 round, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(CLOSE_TRAINING_TYPEHASH, from, nonce, taskId, round)), signature);
        _advance(from, taskId, round, 1, 2);
    }

    function relayCommitScores(address from, uint64 nonce, uint64 taskId, uint32 round, bytes32 commitment, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(COMMIT_TYPEHASH, from, nonce, taskId, round, commitment)), signature);
        _roundIn(taskId, round, 2);
        if (!_isPicked(taskId, round, Role.Validator, from)) revert NotPicked(taskId, round, Role.Validator);
        if (_commitments[taskId][round][from] != bytes32(0)) revert AlreadySubmitted(taskId, round);
        _commitments[taskId][round][from] = commitment;
        _committers[taskId][round].push(from);
    }

    function relayCloseCommits(address from, uint64 nonce, uint64 taskId, uint32 round, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(CLOSE_COMMITS_TYPEHASH, from, nonce, taskId, round)), signature);
        _advance(from, taskId, round, 2, 3);
    }

    function relayRevealScores(address from, uint64 nonce, uint64 taskId, uint32 round, uint256[] calldata scores, bytes32 salt, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(REVEAL_TYPEHASH, from, nonce, taskId, round, keccak256(abi.encodePacked(scores)), salt)), signature);
        _roundIn(taskId, round, 3);
        bytes32 commitment = _commitments[taskId][round][from];
        if (commitment == bytes32(0)) revert NotCommitted(taskId, round);
        if (_revealed[taskId][round][from]) revert AlreadySubmitted(taskId, round);
        uint256 n = _updates[taskId][round].length;
        if (scores.length != n) revert ScoreForUnknownUpdate(scores.length, n);
        uint32[] memory packed = new uint32[](n);
        for (uint256 i = 0; i < n; i++) {
            if (scores[i] > MAX_SCORE) revert BadScore(i, scores[i]);
            packed[i] = uint32(scores[i]);
        }
        bytes32 recomputed = keccak256(abi.encode(SCORE_COMMITMENT_TYPEHASH, taskId, round, from, keccak256(abi.encodePacked(scores)), salt));
        if (recomputed != commitment) revert RevealMismatch(recomputed, commitment);
        _revealed[taskId][round][from] = true;
        _reveals[taskId][round][from] = packed;
        _revealers[taskId][round].push(from);
    }

    function relayFinalizeRound(address from, uint64 nonce, uint64 taskId, uint32 round, bytes32 newModelHash, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(FINALIZE_TYPEHASH, from, nonce, taskId, round, newModelHash)), signature);
        TaskData storage t = _openTask(taskId);
        RoundData storage r = _roundIn(taskId, round, 3);
        _hook(abi.encodeCall(ISkeinTasksHooks.mayClose, (taskId, round, from)));
        if (newModelHash == bytes32(0)) revert InvalidParameter(16);
        _settle(taskId, round, t, r);
        r.newModelHash = newModelHash;
        r.phase = 4;
        r.phaseTimes[3] = uint64(block.timestamp) * 1000;
        _hook(abi.encodeCall(ISkeinTasksHooks.phaseOpened, (taskId, round)));
        t.modelHash = newModelHash;
        t.settledRounds++;
        settledRoundsTotal++;
        emit RoundPhase(taskId, round, 4);
        if (t.settledRounds == t.rounds) {
            uint256 refund = t.escrow;
            t.escrow = 0;
            t.completed = true;
            if (refund > 0) _token.transfer(t.creator, refund);
            emit Movement(taskId, round, t.creator, "refund", refund, t.creator);
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

    /// @notice The settlement's parameters, fixed at deployment: coordinators and auditors read them instead of trusting a config file.
    function incentives() external view returns (Incentives memory) {
        return _incentives;
    }

    // ---- what governance may do: passed proposals ----

    modifier onlyGovernance() {
        if (msg.sender != ledger.governance()) revert NotGovernance(msg.sender);
        _;
    }

    /// @notice A passed change of a settlement parameter (checked against its range by governance).
    function setIncentives(Incentives calldata incentives_) external onlyGovernance {
        _incentives = incentives_;
    }

    /// @notice A decided task_approval: approved, or refused (the task closes and its whole pool returns to its creator).
    function setApproval(uint64 taskId, bool approved) external onlyGovernance {
        TaskData storage t = _tasks[taskId];
        if (approved) {
            approval[taskId] = 2;
            return;
        }
        approval[taskId] = 3;
        uint256 refund = t.escrow;
        t.escrow = 0;
        t.completed = true;
        if (refund > 0) _token.transfer(t.creator, refund);
    }

    /// @notice A passed treasury spend into a task's reward pool (governance sent the tokens first).
    function fund(uint64 taskId, uint256 amount) external onlyGovernance {
        TaskData storage t = _tasks[taskId];
        t.rewardPool += amount;
        t.escrow += amount;
    }

    /// @notice A round's phase and the model it settled on (zero until settled).
    function modelOf(uint64 taskId, uint32 round) external view returns (uint8 phase, bytes32 newModelHash) {
        RoundData storage r = _rounds[taskId][round];
        return (r.phase, r.newModelHash);
    }

    function scoresOf(uint64 taskId, uint32 round, address validator) external view returns (uint256[] memory scores) {
        uint32[] storage stored = _reveals[taskId][round][validator];
        scores = new uint256[](stored.length);
        for (uint256 i = 0; i < stored.length; i++) scores[i] = stored[i];
    }

    function _pick(uint64 taskId, uint32 round, Role role, uint32 count, uint256 minStake, bytes32 seed, bytes memory purpose) private {
        address[] storage members = _members[taskId][role];
        address[] memory eligible = new address[](members.length);
        uint256 n;
        bool anyLeft = _anyLeft[taskId][role];
        for (uint256 i = 0; i < members.length; i++) {
            if (anyLeft && _left[taskId][role][members[i]]) continue;
            (uint256 own, uint256 delegated) = ledger.stakeOf(members[i], role);
            if (own + delegated >= minStake) eligible[n++] = members[i];
        }
        assembly ("memory-safe") { mstore(eligible, n) }
        SkeinRandom.sortAddresses(eligible);
        address[] memory chosen = SkeinRandom.pick(eligible, count, seed, purpose);
        for (uint256 i = 0; i < chosen.length; i++) {
            _picked[taskId][round][role].push(chosen[i]);
            uint256 m = _memberIndex[taskId][role][chosen[i]] - 1;
            _pickedBits[taskId][round][role][m >> 8] |= 1 << (m & 255);
        }
    }

    function _coordinator(uint64 taskId, TaskData storage t, address from) private view {
        address c = _coordinatorOf(taskId, t);
        if (from != c) revert NotCoordinator(taskId, c);
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
        RoundData storage r = _roundIn(taskId, round, fromPhase);
        _hook(abi.encodeCall(ISkeinTasksHooks.mayClose, (taskId, round, from)));
        r.phase = toPhase;
        r.phaseTimes[toPhase - 1] = uint64(block.timestamp) * 1000;
        _hook(abi.encodeCall(ISkeinTasksHooks.phaseOpened, (taskId, round)));
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
        // Every revealer's scores, read from storage once: the consensus and the validators' agreement both read them all.
        uint32[][] scores;
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
        // The treasury's governed share of the emission is minted to it, not into the round's reward.
        if (s.emission > 0) s.emission -= ledger.mintTreasury(s.emission);
        uint256 reward = s.poolShare + s.emission;
        s.weights = new uint256[](revealers.length);
        s.scores = new uint32[][](revealers.length);
        for (uint256 v = 0; v < revealers.length; v++) {
            s.scores[v] = _reveals[taskId][round][revealers[v]];
            (uint256 own, uint256 delegated) = ledger.stakeOf(revealers[v], Role.Validator);
            s.weights[v] = own + delegated;
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
                votes[v] = s.scores[v][u];
                if (votes[v] < t.rejectBelow) rejectWeight += s.weights[v];
            }
            s.consensus[u] = s.totalWeight > 0 ? _weightedMedian(votes, s.weights, revealers, s.totalWeight) : 0;
            s.rejected[u] = s.totalWeight > 0 && rejectWeight * 10_000 >= s.totalWeight * p.supermajorityBps;
            s.accepted[u] = !s.rejected[u] && s.consensus[u] > 0;
        }
        s.trainerPool = reward * p.trainerShareBps / 10_000;
        s.validatorPool = reward - s.trainerPool;
        uint256[] memory trainerRewards = _trainerRewards(updates, s);
        uint256[] memory validatorRewards = _validatorRewards(revealers, s, p, n);
        uint256 minted = s.emission < s.paid ? s.emission : s.paid;
        uint256 undistributed = reward - s.paid;
        uint256 returned = undistributed - (s.emission - minted);
        // The emission that is paid out is minted here first; the rest of the payouts come out of the escrow held here.
        if (minted > 0) ledger.mint(minted);
        _payTrainers(taskId, round, updates, trainerRewards);
        for (uint256 v = 0; v < revealers.length; v++) {
            if (validatorRewards[v] > 0) ledger.reward(revealers[v], Role.Validator, validatorRewards[v], taskId, round);
        }
        for (uint256 u = 0; u < n; u++) {
            emit Verdict(taskId, round, u, s.consensus[u], s.accepted[u], trainerRewards[u]);
        }
        t.escrow = t.escrow - s.poolShare + returned;
        r.reward = reward;
        // Slashes: trainers with a rejected update (once each, in update order), validators that committed but did not reveal.
        for (uint256 u = 0; u < n; u++) {
            if (s.rejected[u] && _firstRejected(updates, s.rejected, u)) {
                ledger.slash(updates[u].trainer, Role.Trainer, p.trainerSlashBps, taskId, round);
            }
        }
        address[] memory committers = _committers[taskId][round];
        SkeinRandom.sortAddresses(committers);
        for (uint256 i = 0; i < committers.length; i++) {
            if (!_revealed[taskId][round][committers[i]]) ledger.slash(committers[i], Role.Validator, p.validatorNoRevealSlashBps, taskId, round);
        }
    }

    function _firstRejected(Update[] storage updates, bool[] memory rejected, uint256 u) private view returns (bool) {
        for (uint256 i = 0; i < u; i++) {
            if (rejected[i] && updates[i].trainer == updates[u].trainer) return false;
        }
        return true;
    }

    /// @dev Each update's trainer reward: the trainers' pool in proportion to consensus score times samples, accepted only.
    function _trainerRewards(Update[] storage updates, Settlement memory s) private view returns (uint256[] memory amounts) {
        uint256 n = updates.length;
        amounts = new uint256[](n);
        uint256 total;
        for (uint256 u = 0; u < n; u++) {
            if (s.accepted[u]) total += s.consensus[u] * updates[u].samples;
        }
        if (total == 0) return amounts;
        for (uint256 u = 0; u < n; u++) {
            if (!s.accepted[u]) continue;
            amounts[u] = Math.mulDiv(s.trainerPool, s.consensus[u] * updates[u].samples, total);
            s.paid += amounts[u];
        }
    }

    /// @dev Pays trainers in address order, as the embedded ledger's sorted rewards do (each trainer submits once a round).
    function _payTrainers(uint64 taskId, uint32 round, Update[] storage updates, uint256[] memory amounts) private {
        uint256 n = updates.length;
        address[] memory trainers = new address[](n);
        for (uint256 u = 0; u < n; u++) trainers[u] = updates[u].trainer;
        SkeinRandom.sortAddresses(trainers);
        for (uint256 i = 0; i < n; i++) {
            for (uint256 u = 0; u < n; u++) {
                if (updates[u].trainer == trainers[i] && amounts[u] > 0) ledger.reward(trainers[i], Role.Trainer, amounts[u], taskId, round);
            }
        }
    }

    /// @dev Each revealer's validator reward: the validators' pool in proportion to stake times mean clipped agreement.
    function _validatorRewards(address[] memory revealers, Settlement memory s, Incentives memory p, uint256 n)
        private pure returns (uint256[] memory amounts)
    {
        amounts = new uint256[](revealers.length);
        uint256[] memory earning = new uint256[](revealers.length);
        uint256 totalEarning;
        for (uint256 v = 0; v < revealers.length; v++) {
            uint256 a = 10_000;
            if (n > 0) {
                uint256 sum;
                for (uint256 u = 0; u < n; u++) {
                    uint256 score = s.scores[v][u];
                    uint256 distance = score >= s.consensus[u] ? score - s.consensus[u] : s.consensus[u] - score;
                    uint256 kept = p.agreementTolerance - (distance < p.agreementTolerance ? distance : p.agreementTolerance);
                    sum += kept * 10_000 / p.agreementTolerance;
                }
                a = sum / n;
            }
            earning[v] = s.weights[v] * a;
            totalEarning += earning[v];
        }
        if (totalEarning == 0) return amounts;
        for (uint256 v = 0; v < revealers.length; v++) {
            amounts[v] = Math.mulDiv(s.validatorPool, earning[v], totalEarning);
            s.paid += amounts[v];
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

}
