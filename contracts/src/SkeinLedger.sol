// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

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
    /// @notice Every token staked, own and delegated, in both roles.
    uint256 public staked;

    event Applied(address indexed from, uint64 nonce, bytes32 indexed digest);
    event Staked(address indexed account, Role role, uint256 amount);
    event Unbonded(address indexed account, uint256 amount, uint64 releaseBlock);
    event Released(address indexed account, uint256 amount);

    error BadSignature(address claimed, address recovered);
    error BadNonce(address from, uint64 nonce, uint64 expected);
    error InvalidAmount(string field);
    error InsufficientBalance(address account, uint256 needed, uint256 available);
    error InsufficientStake(address account, uint256 needed, uint256 available);
    error InvalidParameter(string field, string rule);
    error UnknownTask(uint64 taskId);
    error TaskCompleted(uint64 taskId, uint32 rounds);

    /// @param accounts Genesis allocations: who holds tokens at the start.
    /// @param amounts Their balances, in base units.
    /// @param unbondingBlocks_ Blocks an unbonding waits.
    constructor(address[] memory accounts, uint256[] memory amounts, uint64 unbondingBlocks_) ERC20("Skein", "SKN") {
        if (accounts.length != amounts.length) revert InvalidParameter("genesis", "one amount per account");
        if (unbondingBlocks_ == 0 || unbondingBlocks_ > 10_000_000) revert InvalidParameter("unbonding_blocks", "must be in [1, 10000000]");
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
        if (operator == from) revert InvalidParameter("operator", "delegate to another account; use stake for your own");
        _positive(amount);
        _debit(from, amount);
        _hold(from, amount);
        _stakes[operator][role].delegated += amount;
        delegations[from][operator][role] += amount;
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
        if (bps > 10_000) revert InvalidParameter("commission_bps", "must be <= 10000");
        commissionBps[from] = bps;
    }

    /// @notice Creates a task whose reward pool is escrowed from the creator's balance.
    function relayCreateTask(
        address from, uint64 nonce, bytes32 specHash, uint256 rewardPool, uint32 rounds, uint256 minStake,
        uint32 trainersPerRound, uint32 validatorsPerRound, uint32 rejectBelow, bytes calldata signature
    ) external {
        _accept(from, nonce, keccak256(abi.encode(CREATE_TASK_TYPEHASH, from, nonce, specHash, rewardPool, rounds, minStake,
            trainersPerRound, validatorsPerRound, rejectBelow)), signature);
        if (rounds == 0 || rounds > 100_000) revert InvalidParameter("rounds", "must be in [1, 100000]");
        if (trainersPerRound == 0 || trainersPerRound > 10_000) revert InvalidParameter("trainers_per_round", "must be in [1, 10000]");
        if (validatorsPerRound == 0 || validatorsPerRound > 1_000) revert InvalidParameter("validators_per_round", "must be in [1, 1000]");
        if (rejectBelow > MAX_SCORE) revert InvalidParameter("reject_below", "must be <= 1000000");
        if (specHash == bytes32(0)) revert InvalidParameter("spec_hash", "must be the SHA-256 of the task spec, not zero");
        if (rewardPool == 0) revert InvalidAmount("reward_pool");
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
        if (amount == 0) revert InvalidAmount("amount");
    }

    function _role(Role role) private pure {
        if (role != Role.Trainer && role != Role.Validator) revert InvalidParameter("role", "must be trainer or validator");
    }
}
