// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SkeinLedger} from "./SkeinLedger.sol";
import {SkeinTasks} from "./SkeinTasks.sol";
import {SkeinTasksBase} from "./SkeinTasksBase.sol";
import {SkeinTasksLiveness} from "./SkeinTasksLiveness.sol";

/// @title Skein's governance on an EVM chain: stake-weighted proposals that change a governed parameter, approve a
/// task, release a model or spend from the treasury, as Skein.Ledger.Governance.GovernanceRules decides them.
/// @notice Proposals are signed EIP-712 transactions relayed like every other (the same SubmitProposal and VoteProposal
/// as the embedded ledger's). Voting power is stake (own and delegated, both roles) at the end of the proposal's block,
/// read from SkeinLedger's checkpoints, so stake moved afterwards changes nothing. A proposal is tallied and executed by
/// the first transaction on the chain at or after its end height (SkeinLedger calls endVoting before anything else), or
/// by anyone calling endVoting. This contract holds the deposits and the treasury (its balance beyond the deposits).
contract SkeinGovernance {
    struct Rules {
        uint256 minDeposit;
        uint64 votingPeriodBlocks;
        uint16 quorumBps;
        uint16 thresholdBps;
        uint16 vetoBps;
        uint256 maxSupply;
    }

    struct ProposalInput {
        uint8 kind; // 1 parameter_change, 2 task_approval, 3 model_release, 4 treasury_spend
        string parameter;
        uint256 value;
        uint64 taskId;
        bytes32 modelHash;
        string name;
        string license;
        address recipient;
        uint256 amount;
        uint256 deposit;
    }

    struct Proposal {
        ProposalInput input;
        address proposer;
        uint64 startHeight;
        uint64 endHeight;
        uint64 decidedHeight;
        uint8 status; // 1 voting, 2 passed, 3 rejected, 4 vetoed, 5 failed
        uint8 failure; // why a passed proposal could not execute: 1 parameter, 2 task closed, 3 treasury short, 4 task not fundable
        bool quorum;
        uint256[4] tally; // yes, abstain, no, no-with-veto
        uint256 totalPower;
    }

    bytes32 private constant SUBMIT_TYPEHASH = keccak256(
        "SubmitProposal(address from,uint64 nonce,uint8 kind,string parameter,uint256 value,uint64 taskId,bytes32 modelHash,string name,string license,address recipient,uint256 amount,uint256 deposit)");
    bytes32 private constant VOTE_TYPEHASH = keccak256("VoteProposal(address from,uint64 nonce,uint64 proposalId,uint8 option)");
    uint256 private constant BPS = 10_000;
    uint256 private constant PARAMETERS = 21;

    SkeinLedger public immutable ledger;
    Rules private _rules;
    uint64 public nextProposalId = 1;
    /// @notice Deposits of proposals in their voting period, held here beside the treasury.
    uint256 public deposits;
    mapping(uint64 => Proposal) private _proposals;
    mapping(uint64 => address[]) private _voters;
    /// @notice A voter's option on a proposal (0: has not voted).
    mapping(uint64 => mapping(address => uint8)) public voteOf;
    uint64[] private _open;

    error DepositTooSmall(uint256 minimum, uint256 deposit);
    /// @dev code: what the .NET side words (EvmRefusals.Governance); the transaction names the fields.
    error ProposalRefused(uint8 code);
    error UnknownProposal(uint64 proposalId);
    error VotingClosed(uint64 proposalId, uint64 endHeight);
    /// @dev voter 0: nothing is staked on the chain.
    error NoVotingPower(address voter);
    error UnknownTask(uint64 taskId);
    error TaskCompleted(uint64 taskId, uint32 rounds);
    error InvalidAmount(uint8 field);
    error InsufficientBalance(address account, uint256 needed, uint256 available);
    error InvalidParameter(uint8 field);

    event ProposalSubmitted(uint64 indexed proposalId, address indexed proposer, uint8 kind);
    event ProposalDecided(uint64 indexed proposalId, uint8 status, uint8 failure);

    constructor(SkeinLedger ledger_, Rules memory rules_) {
        if (rules_.minDeposit == 0 || rules_.votingPeriodBlocks == 0 || rules_.votingPeriodBlocks > 10_000_000
            || rules_.quorumBps == 0 || rules_.quorumBps > BPS || rules_.thresholdBps < BPS / 2 || rules_.thresholdBps >= BPS
            || rules_.vetoBps == 0 || rules_.vetoBps > BPS || rules_.maxSupply == 0) revert InvalidParameter(18);
        ledger = ledger_;
        _rules = rules_;
    }

    function rules() external view returns (Rules memory) {
        return _rules;
    }

    /// @notice The community treasury: what this contract holds beyond the deposits of proposals still voting.
    function treasury() public view returns (uint256) {
        return IERC20(address(ledger)).balanceOf(address(this)) - deposits;
    }

    /// @notice Every governed parameter's value in force, in the order of Skein.Ledger.Governance.GovernedParameters.All.
    function parameters() public view returns (uint256[PARAMETERS] memory v) {
        SkeinTasks.Incentives memory p = _tasks().incentives();
        SkeinLedger.ChainParams memory c = ledger.chainParams();
        Rules memory r = _rules;
        v = [uint256(p.trainerShareBps), p.supermajorityBps, p.agreementTolerance, p.trainerSlashBps, p.validatorNoRevealSlashBps,
            p.emissionPerRound, p.halvingRounds, c.unbondingBlocks, r.minDeposit, r.votingPeriodBlocks, r.quorumBps, r.thresholdBps,
            r.vetoBps, c.taskApproval ? uint256(1) : 0, c.treasuryEmissionBps, c.treasurySlashBps, r.maxSupply, 0, 0, 0, 0];
        SkeinTasksBase.LivenessRules memory l = _liveness().livenessRules();
        (v[17], v[18], v[19], v[20]) = (l.trainingBlocks, l.commitBlocks, l.revealBlocks, l.abandonBlocks);
    }

    /// @notice A proposal, its voters in voting order and their options.
    function proposalOf(uint64 proposalId) external view returns (Proposal memory proposal, address[] memory voters, uint8[] memory options) {
        if (proposalId == 0 || proposalId >= nextProposalId) revert UnknownProposal(proposalId);
        voters = _voters[proposalId];
        options = new uint8[](voters.length);
        for (uint256 i = 0; i < voters.length; i++) {
            options[i] = voteOf[proposalId][voters[i]];
        }
        return (_proposals[proposalId], voters, options);
    }

    // ---- relayed transactions ----

    function relaySubmitProposal(address from, uint64 nonce, ProposalInput calldata p, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(SUBMIT_TYPEHASH, from, nonce, p.kind, keccak256(bytes(p.parameter)), p.value, p.taskId,
            p.modelHash, keccak256(bytes(p.name)), keccak256(bytes(p.license)), p.recipient, p.amount, p.deposit)), signature);
        Rules memory r = _rules;
        if (p.deposit < r.minDeposit) revert DepositTooSmall(r.minDeposit, p.deposit);
        if (p.kind == 1) {
            _unused(p, false, true, true, true, true);
            if (!_allowed(_index(p.parameter), p.value)) revert ProposalRefused(7);
        } else if (p.kind == 2) {
            _unused(p, true, false, true, true, true);
            _openTask(p.taskId);
            uint8 approval = _tasks().approval(p.taskId);
            if (approval == 2) revert ProposalRefused(8);
            if (approval != 1) revert ProposalRefused(9);
            for (uint256 i = 0; i < _open.length; i++) {
                Proposal storage o = _proposals[_open[i]];
                if (o.input.kind == 2 && o.input.taskId == p.taskId) revert ProposalRefused(10);
            }
        } else if (p.kind == 3) {
            _unused(p, true, false, false, false, true);
            SkeinTasks.TaskData memory t = _tasks().taskData(p.taskId);
            if (p.modelHash == bytes32(0) || !_produced(p.taskId, t.settledRounds, p.modelHash)) revert ProposalRefused(11);
            if (!_text(p.name)) revert ProposalRefused(12);
            if (!_text(p.license)) revert ProposalRefused(13);
        } else if (p.kind == 4) {
            _unused(p, true, false, true, true, false);
            if (p.amount == 0) revert InvalidAmount(0);
            if ((p.taskId == 0) == (p.recipient == address(0))) revert ProposalRefused(14);
            if (p.taskId != 0 && _openTask(p.taskId).settledRounds > 0) revert ProposalRefused(15);
            uint256 available = treasury();
            if (p.amount > available) revert InsufficientBalance(address(this), p.amount, available);
        } else {
            revert ProposalRefused(1);
        }
        if (ledger.staked() == 0) revert NoVotingPower(address(0));
        ledger.escrow(from, p.deposit);
        deposits += p.deposit;
        uint64 id = nextProposalId++;
        Proposal storage stored = _proposals[id];
        stored.input = p;
        stored.proposer = from;
        stored.startHeight = uint64(block.number);
        stored.endHeight = uint64(block.number) + r.votingPeriodBlocks;
        stored.status = 1;
        _open.push(id);
        _scheduleTally();
        emit ProposalSubmitted(id, from, p.kind);
    }

    function relayVoteProposal(address from, uint64 nonce, uint64 proposalId, uint8 option, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(VOTE_TYPEHASH, from, nonce, proposalId, option)), signature);
        if (proposalId == 0 || proposalId >= nextProposalId) revert UnknownProposal(proposalId);
        Proposal storage p = _proposals[proposalId];
        if (p.status != 1 || block.number >= p.endHeight) revert VotingClosed(proposalId, p.endHeight);
        if (option < 1 || option > 4) revert ProposalRefused(16);
        if (_powerOf(from, uint48(p.startHeight)) == 0) revert NoVotingPower(from);
        if (voteOf[proposalId][from] == 0) _voters[proposalId].push(from);
        voteOf[proposalId][from] = option;
    }

    /// @notice Tallies and executes every proposal whose voting period has ended. SkeinLedger calls it before the first
    /// transaction at or after the earliest end; anyone may call it.
    function endVoting() external {
        uint64[] memory open = _open;
        uint256 kept;
        for (uint256 i = 0; i < open.length; i++) {
            if (_proposals[open[i]].endHeight <= block.number) {
                _decide(open[i]);
            } else {
                _open[kept++] = open[i];
            }
        }
        while (_open.length > kept) _open.pop();
        _scheduleTally();
    }

    /// @notice The count so far (or final): power per option (yes, abstain, no, no-with-veto) and the snapshot's total.
    function tallyOf(uint64 proposalId) public view returns (uint256[4] memory power, uint256 total) {
        Proposal storage p = _proposals[proposalId];
        uint48 height = uint48(p.startHeight);
        address[] storage voters = _voters[proposalId];
        for (uint256 i = 0; i < voters.length; i++) {
            address v = voters[i];
            uint256 option = voteOf[proposalId][v] - 1;
            // Own stake, and what the voter delegated, vote as it votes; what was delegated to it votes as it votes
            // unless the delegator voted itself (then that share went with the delegator's vote above or below).
            power[option] += ledger.ownStakeAt(v, height);
            (address[] memory operators, address[] memory delegators) = ledger.delegationLinks(v);
            for (uint256 k = 0; k < operators.length; k++) {
                power[option] += ledger.delegationAt(v, operators[k], height);
            }
            for (uint256 k = 0; k < delegators.length; k++) {
                if (voteOf[proposalId][delegators[k]] == 0) power[option] += ledger.delegationAt(delegators[k], v, height);
            }
        }
        total = ledger.stakedAt(height);
    }

    // ---- rules ----

    function _decide(uint64 id) private {
        Proposal storage p = _proposals[id];
        (uint256[4] memory power, uint256 total) = tallyOf(id);
        Rules memory r = _rules;
        uint256 voted = power[0] + power[1] + power[2] + power[3];
        bool quorum = total > 0 && voted * BPS >= total * r.quorumBps;
        bool vetoed = quorum && voted > 0 && power[3] * BPS >= voted * r.vetoBps;
        uint256 deciding = power[0] + power[2] + power[3];
        bool passed = quorum && !vetoed && deciding > 0 && power[0] * BPS > deciding * r.thresholdBps;
        p.tally = power;
        p.totalPower = total;
        p.quorum = quorum;
        p.decidedHeight = uint64(block.number);
        uint256 deposit = p.input.deposit;
        deposits -= deposit;
        if (vetoed) {
            p.status = 4;
            ledger.burnDeposit(deposit);
        } else {
            IERC20(address(ledger)).transfer(p.proposer, deposit);
            if (passed) {
                p.failure = _execute(p.input);
                p.status = p.failure == 0 ? 2 : 5;
            } else {
                p.status = 3;
            }
        }
        uint64 taskId = p.input.taskId;
        if (p.status != 2 && p.input.kind == 2 && _tasks().approval(taskId) == 1 && !_tasks().taskData(taskId).completed) {
            // The task never opened a round: it closes and its pool goes back whole.
            _tasks().setApproval(taskId, false);
        }
        emit ProposalDecided(id, p.status, p.failure);
    }

    /// @dev Applies a passed proposal; returns why it could not (changing nothing), or 0.
    function _execute(ProposalInput storage p) private returns (uint8) {
        SkeinTasks tasks = _tasks();
        if (p.kind == 1) {
            // Checked again against today's parameters: another change may have passed since this one was made.
            uint256 index = _index(p.parameter);
            if (!_allowed(index, p.value)) return 1;
            _write(index, p.value);
        } else if (p.kind == 2) {
            if (tasks.taskData(p.taskId).completed) return 2;
            tasks.setApproval(p.taskId, true);
        } else if (p.kind == 4) {
            if (p.amount > treasury()) return 3;
            if (p.taskId != 0) {
                SkeinTasks.TaskData memory t = tasks.taskData(p.taskId);
                if (t.completed || t.settledRounds > 0) return 4;
                IERC20(address(ledger)).transfer(address(tasks), p.amount);
                tasks.fund(p.taskId, p.amount);
            } else {
                IERC20(address(ledger)).transfer(p.recipient, p.amount);
            }
        }
        // model_release: the passed proposal is the release record.
        return 0;
    }

    /// @dev Tells SkeinLedger the earliest end among proposals still voting (0: none).
    function _scheduleTally() private {
        uint64 due;
        for (uint256 i = 0; i < _open.length; i++) {
            uint64 end = _proposals[_open[i]].endHeight;
            if (due == 0 || end < due) due = end;
        }
        SkeinLedger.ChainParams memory c = ledger.chainParams();
        if (c.governanceDue != due) {
            c.governanceDue = due;
            ledger.setChainParams(c);
        }
    }

    function _powerOf(address voter, uint48 height) private view returns (uint256 power) {
        power = ledger.ownStakeAt(voter, height);
        (address[] memory operators, address[] memory delegators) = ledger.delegationLinks(voter);
        for (uint256 k = 0; k < operators.length; k++) {
            power += ledger.delegationAt(voter, operators[k], height);
        }
        for (uint256 k = 0; k < delegators.length; k++) {
            power += ledger.delegationAt(delegators[k], voter, height);
        }
    }

    /// @dev The parameter's index in GovernedParameters.All, or PARAMETERS when it is not governed.
    function _index(string memory name) private pure returns (uint256) {
        bytes32 h = keccak256(bytes(name));
        bytes32[PARAMETERS] memory names = [
            keccak256("incentives.trainer_share_bps"), keccak256("incentives.supermajority_bps"), keccak256("incentives.agreement_tolerance"),
            keccak256("incentives.trainer_slash_bps"), keccak256("incentives.validator_no_reveal_slash_bps"), keccak256("incentives.emission_per_round"),
            keccak256("incentives.halving_rounds"), keccak256("unbonding_blocks"), keccak256("governance.min_deposit"),
            keccak256("governance.voting_period_blocks"), keccak256("governance.quorum_bps"), keccak256("governance.threshold_bps"),
            keccak256("governance.veto_bps"), keccak256("governance.task_approval"), keccak256("governance.treasury_emission_bps"),
            keccak256("governance.treasury_slash_bps"), keccak256("governance.max_supply"), keccak256("liveness.training_blocks"),
            keccak256("liveness.commit_blocks"), keccak256("liveness.reveal_blocks"), keccak256("liveness.abandon_blocks")];
        for (uint256 i = 0; i < PARAMETERS; i++) {
            if (names[i] == h) return i;
        }
        return PARAMETERS;
    }

    /// @dev In range, and an emission schedule that cannot carry the supply past the cap (GovernedParameters.CheckChange).
    function _allowed(uint256 index, uint256 value) private view returns (bool) {
        if (index >= PARAMETERS) return false;
        uint256 maxU64 = type(uint64).max;
        uint256[PARAMETERS] memory min = [uint256(0), 5_001, 1, 0, 0, 0, 1, 1, 1, 1, 1, 5_000, 1, 0, 0, 0, 1, 1, 1, 1, 1];
        uint256[PARAMETERS] memory max = [uint256(BPS), BPS, 1_000_000, BPS, BPS, type(uint120).max, maxU64, 10_000_000, type(uint120).max,
            10_000_000, BPS, BPS - 1, BPS, 1, BPS, BPS, type(uint128).max, 10_000_000, 10_000_000, 10_000_000, 10_000_000];
        if (value < min[index] || value > max[index]) return false;
        uint256[PARAMETERS] memory next = parameters();
        next[index] = value;
        // LivenessParams.Validate: a task working through its longest phase must not be cancellable meanwhile.
        if (next[20] <= Math.max(next[17], Math.max(next[18], next[19]))) return false;
        // Everything the schedule can still mint: the per-round emission over each halving period, halved 127 times.
        uint256 emission;
        for (uint256 h = 0; h <= 127; h++) {
            emission += (next[5] >> h) * next[6];
        }
        uint256 cap = next[16];
        uint256 supply = IERC20(address(ledger)).totalSupply();
        return emission <= cap && supply <= cap - emission;
    }

    function _write(uint256 index, uint256 value) private {
        if (index <= 6) {
            SkeinTasks.Incentives memory p = _tasks().incentives();
            if (index == 0) p.trainerShareBps = uint32(value);
            else if (index == 1) p.supermajorityBps = uint32(value);
            else if (index == 2) p.agreementTolerance = uint64(value);
            else if (index == 3) p.trainerSlashBps = uint32(value);
            else if (index == 4) p.validatorNoRevealSlashBps = uint32(value);
            else if (index == 5) p.emissionPerRound = value;
            else p.halvingRounds = uint64(value);
            _tasks().setIncentives(p);
        } else if (index == 7 || index >= 13 && index <= 15) {
            SkeinLedger.ChainParams memory c = ledger.chainParams();
            if (index == 7) c.unbondingBlocks = uint64(value);
            else if (index == 13) c.taskApproval = value == 1;
            else if (index == 14) c.treasuryEmissionBps = uint16(value);
            else c.treasurySlashBps = uint16(value);
            ledger.setChainParams(c);
        } else if (index == 8) {
            _rules.minDeposit = value;
        } else if (index == 9) {
            _rules.votingPeriodBlocks = uint64(value);
        } else if (index == 10) {
            _rules.quorumBps = uint16(value);
        } else if (index == 11) {
            _rules.thresholdBps = uint16(value);
        } else if (index == 12) {
            _rules.vetoBps = uint16(value);
        } else if (index == 16) {
            _rules.maxSupply = value;
        } else {
            SkeinTasksBase.LivenessRules memory l = _liveness().livenessRules();
            if (index == 17) l.trainingBlocks = uint64(value);
            else if (index == 18) l.commitBlocks = uint64(value);
            else if (index == 19) l.revealBlocks = uint64(value);
            else l.abandonBlocks = uint64(value);
            _liveness().setLivenessRules(l);
        }
    }

    /// @dev SkeinTasks' liveness rules (SkeinTasksLiveness's functions, which SkeinTasks runs for it).
    function _liveness() private view returns (SkeinTasksLiveness) {
        return SkeinTasksLiveness(ledger.tasks());
    }

    function _tasks() private view returns (SkeinTasks) {
        return SkeinTasks(ledger.tasks());
    }

    function _openTask(uint64 taskId) private view returns (SkeinTasks.TaskData memory t) {
        t = _tasks().taskData(taskId);
        if (t.completed) revert TaskCompleted(taskId, t.rounds);
    }

    /// @dev Whether a settled round of the task produced `modelHash` (newest first: a release is usually the latest model).
    function _produced(uint64 taskId, uint32 settledRounds, bytes32 modelHash) private view returns (bool) {
        for (uint32 r = settledRounds; r >= 1; r--) {
            (uint8 phase, bytes32 h) = _tasks().modelOf(taskId, r);
            if (phase == 4 && h == modelHash) return true;
        }
        return false;
    }

    /// @dev Fields a kind does not use must be empty (a flag set: that group must be empty), as the embedded ledger checks them.
    function _unused(ProposalInput calldata p, bool parameter, bool task, bool model, bool names, bool payment) private pure {
        if (parameter && (bytes(p.parameter).length > 0 || p.value != 0)) revert ProposalRefused(2);
        if (task && p.taskId != 0) revert ProposalRefused(3);
        if (model && p.modelHash != bytes32(0)) revert ProposalRefused(4);
        if (names && (bytes(p.name).length > 0 || bytes(p.license).length > 0)) revert ProposalRefused(5);
        if (payment && (p.recipient != address(0) || p.amount != 0)) revert ProposalRefused(6);
    }

    /// @dev 1 to 100 bytes, not only white space.
    function _text(string calldata value) private pure returns (bool) {
        bytes calldata b = bytes(value);
        if (b.length == 0 || b.length > 100) return false;
        for (uint256 i = 0; i < b.length; i++) {
            bytes1 c = b[i];
            if (c != " " && c != "\t" && c != "\n" && c != "\r" && c != 0x0b && c != 0x0c) return true;
        }
        return false;
    }
}
