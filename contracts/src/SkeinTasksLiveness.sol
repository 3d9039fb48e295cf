// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Role} from "./SkeinTypes.sol";
import {ISkeinLedger, ISkeinMarketClock, ISkeinTasksHooks, SkeinTasksBase} from "./SkeinTasksBase.sol";

/// @title What no coordinator can take away, as Skein.Ledger.State.LivenessRules keeps it: phase deadlines in market
/// blocks after which anyone staked in a task may close the phase, cancelling a task that made no progress for the
/// abandonment period, handover by the creator, leaving, and the bond of a member's stake to its live tasks. Deployed
/// on its own and run by SkeinTasks in SkeinTasks' storage (delegatecall); called directly it only touches its own, empty, storage.
contract SkeinTasksLiveness is SkeinTasksBase, ISkeinTasksHooks {
    bytes32 private constant CANCEL_TASK_TYPEHASH = keccak256("CancelTask(address from,uint64 nonce,uint64 taskId)");
    bytes32 private constant HANDOVER_TASK_TYPEHASH = keccak256("HandoverTask(address from,uint64 nonce,uint64 taskId,address coordinator)");
    bytes32 private constant LEAVE_TASK_TYPEHASH = keccak256("LeaveTask(address from,uint64 nonce,uint64 taskId,uint8 role)");

    event Cancelled(uint64 indexed taskId, address indexed by, uint256 refunded);
    event HandedOver(uint64 indexed taskId, address indexed coordinator);
    event Left(uint64 indexed taskId, address indexed account, Role role);

    constructor(ISkeinLedger ledger_) SkeinTasksBase(ledger_) {}

    /// @notice The ledger's clock in market blocks (SkeinMarket's: chain time since genesis over the block interval).
    function marketHeight() public view returns (uint64) {
        return ISkeinMarketClock(ledger.market()).marketHeight();
    }

    /// @inheritdoc ISkeinTasksHooks
    /// @dev Round 0: the task was created. Sets the phase's deadline from the rules in force and counts the change as progress.
    function phaseOpened(uint64 taskId, uint32 round) external {
        uint64 height = marketHeight();
        _liveness[taskId].lastProgress = height;
        if (round == 0) return;
        uint8 phase = _rounds[taskId][round].phase;
        LivenessRules memory l = _livenessRules;
        _deadlines[taskId][round] = phase == 4 ? 0 : height + (phase == 1 ? l.trainingBlocks : phase == 2 ? l.commitBlocks : l.revealBlocks);
    }

    /// @inheritdoc ISkeinTasksHooks
    /// @dev The coordinator at any time; after the deadline, the creator or a member staked at the task's minimum in its role.
    function mayClose(uint64 taskId, uint32 round, address from) external view {
        TaskData storage t = _tasks[taskId];
        if (from == _coordinatorOf(taskId, t)) return;
        uint64 due = _deadlines[taskId][round];
        uint64 height = marketHeight();
        if (height < due) revert NotYetDue(taskId, due, height);
        if (from != t.creator && !_stakedMember(taskId, t, from, Role.Trainer) && !_stakedMember(taskId, t, from, Role.Validator)) revert NotMember(taskId, from);
    }

    /// @notice Cancels a task that made no progress for the abandonment period (anyone may): the unpaid pool back to the creator.
    function relayCancelTask(address from, uint64 nonce, uint64 taskId, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(CANCEL_TASK_TYPEHASH, from, nonce, taskId)), signature);
        TaskData storage t = _openTask(taskId);
        Liveness storage l = _liveness[taskId];
        uint64 due = l.lastProgress + _livenessRules.abandonBlocks;
        uint64 height = marketHeight();
        if (height < due) revert NotYetDue(taskId, due, height);
        uint256 refund = t.escrow;
        t.escrow = 0;
        // Closed for every rule that asks whether a task is completed (governance, joining); cancelled says why.
        t.completed = true;
        l.cancelled = true;
        l.refunded = refund;
        if (refund > 0) _token.transfer(t.creator, refund);
        emit Cancelled(taskId, from, refund);
    }

    /// @notice The creator moves the task's coordination to another address.
    function relayHandoverTask(address from, uint64 nonce, uint64 taskId, address coordinator, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(HANDOVER_TASK_TYPEHASH, from, nonce, taskId, coordinator)), signature);
        TaskData storage t = _openTask(taskId);
        if (from != t.creator) revert NotCreator(taskId, t.creator);
        if (coordinator == address(0)) revert InvalidParameter(18);
        if (coordinator == _coordinatorOf(taskId, t)) revert InvalidParameter(19);
        _coordinators[taskId] = coordinator;
        emit HandedOver(taskId, coordinator);
    }

    /// @notice A member leaves a task in a role; picked in a round not yet settled, its stake stays bound to that round.
    function relayLeaveTask(address from, uint64 nonce, uint64 taskId, Role role, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(LEAVE_TASK_TYPEHASH, from, nonce, taskId, uint8(role))), signature);
        _role(role);
        _openTask(taskId);
        if (_memberIndex[taskId][role][from] == 0 || _left[taskId][role][from]) revert NotMember(taskId, from);
        _left[taskId][role][from] = true;
        _anyLeft[taskId][role] = true;
        emit Left(taskId, from, role);
    }

    /// @notice The least stake `operator` must keep in `role`: the largest minimum of the live tasks it is a member of in
    /// that role or was picked for in a round not yet settled (0 when none), and that task.
    function bonded(address operator, Role role) external view returns (uint256 minimum, uint64 taskId) {
        uint64[] storage ids = _memberTasks[operator][role];
        for (uint256 i = 0; i < ids.length; i++) {
            uint64 id = ids[i];
            TaskData storage t = _tasks[id];
            if (t.completed || t.minStake <= minimum) continue;
            uint32 open = t.settledRounds + 1;
            uint8 phase = _rounds[id][open].phase;
            if (!_left[id][role][operator] || (phase >= 1 && phase <= 3 && _isPicked(id, open, role, operator))) {
                minimum = t.minStake;
                taskId = id;
            }
        }
    }

    /// @notice A task's coordinator, whether it was cancelled (and what went back to its creator), its last progress, and
    /// the market height from which anyone may cancel it if it makes no more (0 once it has ended).
    function livenessOf(uint64 taskId) external view returns (address coordinator, bool cancelled, uint256 refunded, uint64 lastProgress, uint64 abandonHeight) {
        if (taskId == 0 || taskId >= nextTaskId) revert UnknownTask(taskId);
        TaskData storage t = _tasks[taskId];
        Liveness storage l = _liveness[taskId];
        return (_coordinatorOf(taskId, t), l.cancelled, l.refunded, l.lastProgress, t.completed ? 0 : l.lastProgress + _livenessRules.abandonBlocks);
    }

    /// @notice The market height from which anyone staked in the task may close the round's current phase (0 once settled).
    function deadlineOf(uint64 taskId, uint32 round) external view returns (uint64) {
        return _deadlines[taskId][round];
    }

    /// @notice The task's members in a role who have not left, in joining order.
    function membersOf(uint64 taskId, Role role) external view returns (address[] memory members) {
        address[] storage all = _members[taskId][role];
        members = new address[](all.length);
        uint256 n;
        for (uint256 i = 0; i < all.length; i++) {
            if (!_left[taskId][role][all[i]]) members[n++] = all[i];
        }
        assembly ("memory-safe") { mstore(members, n) }
    }

    /// @notice The phase deadlines and the abandonment period in force (market blocks).
    function livenessRules() external view returns (LivenessRules memory) {
        return _livenessRules;
    }

    /// @notice A passed change of a liveness parameter (checked against its range by governance).
    function setLivenessRules(LivenessRules calldata rules) external {
        if (msg.sender != ledger.governance()) revert NotGovernance(msg.sender);
        _livenessRules = rules;
    }

    function _stakedMember(uint64 taskId, TaskData storage t, address who, Role role) private view returns (bool) {
        if (_memberIndex[taskId][role][who] == 0 || _left[taskId][role][who]) return false;
        (uint256 own, uint256 delegated) = ledger.stakeOf(who, role);
        return own + delegated >= t.minStake;
    }
}
