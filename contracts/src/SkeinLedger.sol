// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SkeinRandom} from "./SkeinRandom.sol";
import {Role} from "./SkeinTypes.sol";

/// @notice The bond SkeinTasks (its liveness extension) holds on a member's stake.
interface ISkeinTasksBond {
    function bonded(address operator, Role role) external view returns (uint256 minimum, uint64 taskId);
}

/// @title The Skein ledger's rules on an EVM chain: the token, signed transactions relayed by anyone, stake; tasks and
/// rounds live in SkeinTasks, which acts on balances and stakes through the privileged calls below.
/// Governance (SkeinGovernance) sets the chain parameters kept here and reads voting power from the stake checkpoints.
/// @notice Participants sign the same EIP-712 transactions as for the embedded ledger (domain "Skein Ledger", "1",
/// chainId; no verifyingContract, so one signature format serves both backends) and pay no gas: a relayer submits
/// them, and the contract checks the signature, the chain id (through the domain) and the sender's nonce.
/// Token amounts are in base units (18 decimals), as in the embedded ledger.
/// @notice What SkeinLedger needs of SkeinGovernance: the tally of proposals whose voting period has ended.
interface IGovernance {
    function endVoting() external;
}

contract SkeinLedger is ERC20 {
    using Checkpoints for Checkpoints.Trace208;

    struct StakeEntry {
        uint256 self;
        uint256 delegated;
    }

    struct Unbonding {
        uint256 amount;
        uint64 releaseBlock;
    }

    /// @notice The governed parameters kept here, in one storage word: every transaction reads them once.
    struct ChainParams {
        uint64 unbondingBlocks;
        uint16 treasurySlashBps;
        uint16 treasuryEmissionBps;
        bool taskApproval;
        /// @dev The earliest end of a proposal still in its voting period (0: none); the first transaction at or
        /// after it has governance tally first, as the embedded ledger does at the start of a block.
        uint64 governanceDue;
    }

    bytes32 private constant DOMAIN_TYPEHASH = keccak256("EIP712Domain(string name,string version,uint256 chainId)");
    bytes32 private constant TRANSFER_TYPEHASH = keccak256("Transfer(address from,uint64 nonce,address to,uint256 amount)");
    bytes32 private constant STAKE_TYPEHASH = keccak256("Stake(address from,uint64 nonce,uint8 role,uint256 amount)");
    bytes32 private constant UNSTAKE_TYPEHASH = keccak256("Unstake(address from,uint64 nonce,uint8 role,uint256 amount)");
    bytes32 private constant DELEGATE_TYPEHASH = keccak256("Delegate(address from,uint64 nonce,address operator,uint8 role,uint256 amount)");
    bytes32 private constant UNDELEGATE_TYPEHASH = keccak256("Undelegate(address from,uint64 nonce,address operator,uint8 role,uint256 amount)");
    bytes32 private constant COMMISSION_TYPEHASH = keccak256("SetCommission(address from,uint64 nonce,uint16 commissionBps)");

    ChainParams private _chain;

    mapping(address => uint64) public nonces;
    mapping(address => mapping(Role => StakeEntry)) private _stakes;
    mapping(address => mapping(address => mapping(Role => uint256))) public delegations;
    mapping(address => uint16) public commissionBps;
    mapping(address => Unbonding[]) private _unbondings;
    /// @notice Tokens held by this contract for stakes and unbondings, so that the supply stays accounted for.
    uint256 public held;
    /// @dev Everyone who ever delegated to an operator in a role (amounts may since be 0).
    mapping(address => mapping(Role => address[])) private _delegators;
    mapping(address => mapping(Role => mapping(address => bool))) private _isDelegator;
    /// @notice The SkeinTasks contract, set once by the deployer.
    address public tasks;
    /// @notice The SkeinMarket contract, set once by the deployer.
    address public market;
    /// @notice The SkeinGovernance contract, set once by the deployer: it holds deposits and the treasury.
    address public governance;
    // Voting power by block: own stake (both roles), each delegation (both roles), and everything staked.
    mapping(address => Checkpoints.Trace208) private _ownAt;
    mapping(address => mapping(address => Checkpoints.Trace208)) private _delegationAt;
    Checkpoints.Trace208 private _stakedAt;
    /// @dev Every operator an account ever delegated to, and every account that ever delegated to an operator (either role).
    mapping(address => address[]) private _operatorsOf;
    mapping(address => address[]) private _delegatorsAll;
    mapping(address => mapping(address => bool)) private _everDelegated;
    uint256 public emitted;
    uint256 public burned;
    address private immutable _deployer;
    error NotTasks(address caller);
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
    error StakeBonded(address account, uint64 taskId, uint256 minimum);
    /// @dev field: an index into EvmRefusals.Fields (codes keep the contract under the 24 KB code size limit).
    error InvalidParameter(uint8 field);
    /// @notice A payout or slash of a settled round (operator: whose stake it went through, for delegators).
    event Movement(uint64 indexed taskId, uint32 indexed round, address indexed account, string kind, uint256 amount, address operator);

    /// @param accounts Genesis allocations: who holds tokens at the start.
    /// @param amounts Their balances, in base units.
    /// @param chain_ Blocks an unbonding waits, the treasury's shares of slashes and emission, whether tasks need approval.
    constructor(address[] memory accounts, uint256[] memory amounts, ChainParams memory chain_) ERC20("Skein", "SKN") {
        _deployer = msg.sender;
        if (accounts.length != amounts.length) revert InvalidParameter(6);
        if (chain_.unbondingBlocks == 0 || chain_.unbondingBlocks > 10_000_000) revert InvalidParameter(7);
        if (chain_.treasurySlashBps > 10_000 || chain_.treasuryEmissionBps > 10_000) revert InvalidParameter(18);
        chain_.governanceDue = 0;
        _chain = chain_;
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

    /// @notice Blocks between an unstake or undelegation and the tokens' return to the balance.
    function unbondingBlocks() external view returns (uint64) {
        return _chain.unbondingBlocks;
    }

    function chainParams() external view returns (ChainParams memory) {
        return _chain;
    }

    function taskApproval() external view returns (bool) {
        return _chain.taskApproval;
    }

    /// @notice Own stake (both roles) at the end of block `height`.
    function ownStakeAt(address account, uint48 height) external view returns (uint256) {
        return _ownAt[account].upperLookupRecent(height);
    }

    /// @notice What `delegator` delegated to `operator` (both roles) at the end of block `height`.
    function delegationAt(address delegator, address operator, uint48 height) external view returns (uint256) {
        return _delegationAt[delegator][operator].upperLookupRecent(height);
    }

    /// @notice Everything staked, own and delegated, at the end of block `height`: the voting power of a proposal started then.
    function stakedAt(uint48 height) external view returns (uint256) {
        return _stakedAt.upperLookupRecent(height);
    }

    /// @notice Every operator `delegator` ever delegated to, and every account that ever delegated to `operator` (amounts may since be 0).
    function delegationLinks(address account) external view returns (address[] memory operators, address[] memory delegators) {
        return (_operatorsOf[account], _delegatorsAll[account]);
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
        _ownMoved(from, amount, true);
        emit Staked(from, role, amount);
    }

    function relayUnstake(address from, uint64 nonce, Role role, uint256 amount, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(UNSTAKE_TYPEHASH, from, nonce, uint8(role), amount)), signature);
        _role(role);
        _positive(amount);
        StakeEntry storage s = _stakes[from][role];
        if (amount > s.self) revert InsufficientStake(from, amount, s.self);
        // A member of a live task keeps its minimum staked until it leaves the task (and the round it was picked for settles).
        if (tasks != address(0)) {
            (uint256 minimum, uint64 taskId) = ISkeinTasksBond(tasks).bonded(from, role);
            if (s.self + s.delegated - amount < minimum) revert StakeBonded(from, taskId, minimum);
        }
        s.self -= amount;
        staked -= amount;
        _ownMoved(from, amount, false);
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
        if (!_everDelegated[from][operator]) {
            _everDelegated[from][operator] = true;
            _operatorsOf[from].push(operator);
            _delegatorsAll[operator].push(from);
        }
        staked += amount;
        _delegationMoved(from, operator, amount, true);
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
        _delegationMoved(from, operator, amount, false);
        _startUnbonding(from, amount);
    }

    function relaySetCommission(address from, uint64 nonce, uint16 bps, bytes calldata signature) external {
        _accept(from, nonce, keccak256(abi.encode(COMMISSION_TYPEHASH, from, nonce, bps)), signature);
        if (bps > 10_000) revert InvalidParameter(9);
        commissionBps[from] = bps;
    }

    // ---- what SkeinTasks may do: it is set once, right after deployment, by the deployer ----

    modifier onlyTasks() {
        if (msg.sender != tasks || tasks == address(0)) revert NotTasks(msg.sender);
        _;
    }

    modifier onlyLinked() {
        if ((msg.sender != tasks || tasks == address(0)) && (msg.sender != market || market == address(0))
            && (msg.sender != governance || governance == address(0))) revert NotTasks(msg.sender);
        _;
    }

    modifier onlyGovernance() {
        if (msg.sender != governance || governance == address(0)) revert NotTasks(msg.sender);
        _;
    }

    /// @notice Links SkeinTasks, SkeinMarket and SkeinGovernance, once, by the deployer; after that nobody can change them.
    function link(address tasks_, address market_, address governance_) external {
        if (msg.sender != _deployer || tasks != address(0)) revert NotTasks(msg.sender);
        tasks = tasks_;
        market = market_;
        governance = governance_;
    }

    /// @notice Sets the governed parameters kept here: a passed parameter change, or a new earliest proposal end.
    function setChainParams(ChainParams calldata chain_) external onlyGovernance {
        _chain = chain_;
    }

    /// @notice Burns a vetoed proposal's deposit, which governance holds.
    function burnDeposit(uint256 amount) external onlyGovernance {
        burned += amount;
        _burn(governance, amount);
    }

    /// @notice Mints the treasury's governed share of a round's emission to governance; returns that share.
    function mintTreasury(uint256 emission) external onlyTasks returns (uint256 share) {
        share = emission * _chain.treasuryEmissionBps / 10_000;
        if (share > 0) {
            emitted += share;
            _mint(governance, share);
        }
    }

    /// @notice Checks a task, round or market transaction's signature and uses its nonce (one nonce sequence per account).
    function accept(address from, uint64 nonce, bytes32 structHash, bytes calldata signature) external onlyLinked {
        _accept(from, nonce, structHash, signature);
    }

    /// @notice Moves a task's reward pool, or a deployment's escrow or bid deposit, from the sender's balance to the calling contract.
    function escrow(address from, uint256 amount) external onlyLinked {
        _debit(from, amount);
        _update(from, msg.sender, amount);
    }

    /// @notice Mints a round's paid emission to SkeinTasks, which pays it out.
    function mint(uint256 amount) external onlyTasks {
        emitted += amount;
        _mint(tasks, amount);
    }

    /// @dev StakeSplit.Reward: delegators pro rata, commission on their part to the operator, the operator the rest.
    function reward(address operator, Role role, uint256 amount, uint64 taskId, uint32 round) external onlyTasks {
        (address[] memory delegators, uint256[] memory held_, uint256 delegated) = delegatorsOf(operator, role);
        uint256 total = _stakes[operator][role].self + delegated;
        uint256[] memory parts = new uint256[](delegators.length);
        uint256 toDelegators;
        if (total > 0 && delegated > 0) {
            uint256 delegatorsPart = Math.mulDiv(amount, delegated, total);
            uint256 shared = delegatorsPart - delegatorsPart * commissionBps[operator] / 10_000;
            for (uint256 i = 0; i < delegators.length; i++) {
                parts[i] = Math.mulDiv(shared, held_[i], delegated);
                toDelegators += parts[i];
            }
        }
        // The operator first, then its delegators, leaving out zero parts, in the embedded ledger's order.
        if (amount > toDelegators) {
            _update(tasks, operator, amount - toDelegators);
            emit Movement(taskId, round, operator, role == Role.Trainer ? "trainer reward" : "validator reward", amount - toDelegators, operator);
        }
        for (uint256 i = 0; i < delegators.length; i++) {
            if (parts[i] == 0) continue;
            _update(tasks, delegators[i], parts[i]);
            emit Movement(taskId, round, delegators[i], role == Role.Trainer ? "delegator reward (trainer)" : "delegator reward (validator)", parts[i], operator);
        }
    }

    /// @dev StakeSplit.Slash: pro rata from each delegation (floored), the rest from self stake, dust from delegations in order.
    function slash(address operator, Role role, uint32 bps, uint64 taskId, uint32 round) external onlyTasks {
        StakeEntry storage st = _stakes[operator][role];
        uint256 total = st.self + st.delegated;
        uint256 amount = total * bps / 10_000;
        if (amount == 0) return;
        (address[] memory delegators, uint256[] memory held_,) = delegatorsOf(operator, role);
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
        _ownMoved(operator, fromSelf, false);
        for (uint256 i = 0; i < delegators.length; i++) {
            if (parts[i] == 0) continue;
            delegations[delegators[i]][operator][role] -= parts[i];
            st.delegated -= parts[i];
            gone += parts[i];
            _delegationMoved(delegators[i], operator, parts[i], false);
            emit Movement(taskId, round, delegators[i], role == Role.Trainer ? "delegator slash (trainer)" : "delegator slash (validator)", parts[i], operator);
        }
        staked -= gone;
        _stakedAt.push(uint48(block.number), uint208(staked));
        held -= gone;
        // The treasury's governed share of a slash is kept for the community; the rest is burned.
        uint256 kept = gone * _chain.treasurySlashBps / 10_000;
        if (kept > 0) _update(address(this), governance, kept);
        burned += gone - kept;
        _burn(address(this), gone - kept);
        emit Movement(taskId, round, operator, role == Role.Trainer ? "trainer slash" : "validator slash", fromSelf, operator);
    }

    /// @dev Delegations to an operator in a role with a non-zero amount, in delegator address order.
    function delegatorsOf(address operator, Role role) public view returns (address[] memory who, uint256[] memory amounts, uint256 total) {
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
        uint64 due = _chain.governanceDue;
        if (due != 0 && block.number >= due) IGovernance(governance).endVoting();
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
        uint64 release = uint64(block.number) + _chain.unbondingBlocks;
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

    function _ownMoved(address account, uint256 amount, bool up) private {
        Checkpoints.Trace208 storage t = _ownAt[account];
        uint256 now_ = t.latest();
        t.push(uint48(block.number), uint208(up ? now_ + amount : now_ - amount));
        _stakedAt.push(uint48(block.number), uint208(staked));
    }

    function _delegationMoved(address delegator, address operator, uint256 amount, bool up) private {
        Checkpoints.Trace208 storage t = _delegationAt[delegator][operator];
        uint256 now_ = t.latest();
        t.push(uint48(block.number), uint208(up ? now_ + amount : now_ - amount));
        _stakedAt.push(uint48(block.number), uint208(staked));
    }

    function _positive(uint256 amount) private pure {
        if (amount == 0) revert InvalidAmount(0);
    }

    function _role(Role role) private pure {
        if (role != Role.Trainer && role != Role.Validator) revert InvalidParameter(17);
    }
}
