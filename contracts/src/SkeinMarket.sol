// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice What SkeinMarket needs of SkeinLedger: signatures and nonces, moving a deposit in, paying out.
interface ISkeinLedgerForMarket {
    function accept(address from, uint64 nonce, bytes32 structHash, bytes calldata signature) external;
    function escrow(address from, uint256 amount) external;
    function transfer(address to, uint256 value) external returns (bool);
}

/// @title Skein's compute market on an EVM chain, with the embedded ledger's rules (Skein.Ledger.Market.MarketRules):
/// providers and auditors, deployments with one order per group, bids with deposits, leases paid per market block
/// from the deployment's escrow, withdrawals, top-ups and closing.
/// @notice Market blocks are whole block intervals of chain time since the genesis time. What the embedded ledger does
/// at the start of each block (closing a deployment whose escrow ran dry, timing out unanswered bids) happens here when
/// a transaction next touches the deployment or order, or when anyone calls settle or expireBids; the amounts are the
/// same, since an account that ran dry pays the same whenever it is settled.
/// The JSON fields that tenants and providers sign (attributes, capacity, groups) are stored as signed; the contract
/// cannot parse JSON, so the relayer passes what it parsed from them (attribute hashes, each group's price ceiling and
/// placement requirements) and the contract stores that beside the JSON, where anyone can check it.
contract SkeinMarket {
    struct Provider {
        string hostUri;
        string attributes;
        string capacity;
        uint64 registeredAt;
        bool exists;
    }

    struct Deployment {
        address owner;
        uint64 dseq;
        bytes32 manifestHash;
        uint8 status; // 1 active, 2 closed
        uint8 closeReason; // 0 none, 1 tenant_closed, 2 provider_closed, 3 insufficient_funds
        bool overdrawn;
        uint32 groupCount;
        uint64 createdAt;
        uint64 closedAt;
        uint64 settledAt;
        uint256 balance;
        uint256 deposited;
        uint256 transferred;
        string groups;
    }

    struct Group {
        uint256 ceiling;
        uint32 orderCount;
        bytes32[] required; // attribute key hash, value hash, ...
        address[] allOf;
        address[] anyOf;
    }

    struct Order {
        uint8 status; // 1 open, 2 active, 3 closed
        uint64 createdAt;
        address leaseProvider;
        address[] bidders;
    }

    struct Bid {
        uint256 price;
        uint64 createdAt;
        uint8 status; // 1 open, 2 active, 3 lost, 4 closed
        uint256 depositHeld;
    }

    struct Lease {
        uint256 price;
        uint64 startedAt;
        uint8 status; // 1 active, 2 closed, 3 insufficient funds
        uint8 closeReason;
        uint64 closedAt;
        uint256 accrued;
        uint256 withdrawn;
    }

    bytes32 private constant REGISTER_TYPEHASH = keccak256("RegisterProvider(address from,uint64 nonce,string hostUri,string attributes,string capacity)");
    bytes32 private constant AUDIT_TYPEHASH = keccak256("SignProviderAttributes(address from,uint64 nonce,address provider,string attributes)");
    bytes32 private constant CREATE_TYPEHASH = keccak256("CreateDeployment(address from,uint64 nonce,uint64 dseq,bytes32 manifestHash,string groups,uint256 deposit)");
    bytes32 private constant DEPOSIT_TYPEHASH = keccak256("DepositDeployment(address from,uint64 nonce,address owner,uint64 dseq,uint256 amount)");
    bytes32 private constant CLOSE_DEPLOYMENT_TYPEHASH = keccak256("CloseDeployment(address from,uint64 nonce,address owner,uint64 dseq)");
    bytes32 private constant BID_TYPEHASH = keccak256("CreateBid(address from,uint64 nonce,address owner,uint64 dseq,uint32 gseq,uint32 oseq,uint256 price)");
    bytes32 private constant CLOSE_BID_TYPEHASH = keccak256("CloseBid(address from,uint64 nonce,address owner,uint64 dseq,uint32 gseq,uint32 oseq)");
    bytes32 private constant LEASE_TYPEHASH = keccak256("CreateLease(address from,uint64 nonce,address owner,uint64 dseq,uint32 gseq,uint32 oseq,address provider)");
    bytes32 private constant WITHDRAW_TYPEHASH = keccak256("WithdrawLease(address from,uint64 nonce,address owner,uint64 dseq,uint32 gseq,uint32 oseq)");
    bytes32 private constant CLOSE_LEASE_TYPEHASH = keccak256("CloseLease(address from,uint64 nonce,address owner,uint64 dseq,uint32 gseq,uint32 oseq,address provider)");

    uint8 private constant MAX_GROUPS = 20;

    ISkeinLedgerForMarket public immutable ledger;
    uint64 public immutable blockIntervalMs;
    uint256 public immutable minDeposit;
    uint256 public immutable bidDeposit;
    uint64 public immutable bidTimeoutBlocks;
    uint64 public immutable genesisMs;
    uint256 public immutable baseUnitsPerDenomUnit;
    string public denom;

    mapping(address => Provider) private _providers;
    address[] private _providerList;
    mapping(address => bytes32[]) private _attrKeys;
    mapping(address => mapping(bytes32 => bytes32)) private _attr;
    mapping(address => address[]) private _auditors;
    mapping(address => mapping(address => bool)) private _isAuditor;
    // auditor => provider => the attributes it signed (JSON; empty: none), and their hashes.
    mapping(address => mapping(address => string)) private _auditJson;
    mapping(address => mapping(address => bytes32[])) private _auditKeys;
    mapping(address => mapping(address => mapping(bytes32 => bytes32))) private _audit;

    mapping(bytes32 => Deployment) private _deployments;
    bytes32[] private _deploymentList;
    mapping(bytes32 => mapping(uint32 => Group)) private _groups;
    mapping(bytes32 => Order) private _orders;
    mapping(bytes32 => mapping(address => Bid)) private _bids;
    mapping(bytes32 => Lease) private _leases;

    /// @dev field: 20 host_uri, 21 groups (count), 22 dseq, 23 manifest_hash, 24 parsed data malformed.
    error InvalidParameter(uint8 field);
    /// @dev field: 0 amount, 3 price.
    error InvalidAmount(uint8 field);
    error UnknownProvider(address provider);
    error DeploymentExists(address owner, uint64 dseq);
    error DepositTooSmall(uint256 minimum, uint256 deposit);
    error UnknownDeployment(address owner, uint64 dseq);
    error DeploymentClosed(address owner, uint64 dseq, uint8 reason);
    error NotOwner(address owner, address provider);
    /// @dev kind 0: no such group (groups: how many); 1: no such order in the group (current: its newest order).
    error UnknownOrder(uint8 kind, uint32 groups, uint32 current);
    error OrderNotOpen(uint8 status);
    error BidExists();
    error UnknownBid();
    error BidNotOpen(uint8 status);
    error BidAboveCeiling(uint256 price, uint256 ceiling);
    /// @dev kind 0: an attribute; 1: signedBy.allOf; 2: signedBy.anyOf.
    error RequirementsNotMet(uint8 kind);
    /// @dev kind 0: no lease; 1: another provider's lease.
    error UnknownLease(uint8 kind);
    error LeaseNotActive(uint8 status);
    error NotProvider(address provider);

    /// @notice Something of this deployment may have changed (its escrow, orders, bids or leases): readers re-read it.
    event DeploymentTouched(address indexed owner, uint64 indexed dseq);
    /// @notice The provider's record or the attributes an auditor signed for it changed.
    event ProviderTouched(address indexed provider);

    constructor(
        ISkeinLedgerForMarket ledger_, string memory denom_, uint256 baseUnitsPerDenomUnit_, uint64 blockIntervalMs_, uint256 minDeposit_,
        uint256 bidDeposit_, uint64 bidTimeoutBlocks_, uint64 genesisMs_
    ) {
        if (blockIntervalMs_ < 10 || blockIntervalMs_ > 3_600_000 || minDeposit_ == 0 || bidTimeoutBlocks_ == 0 || baseUnitsPerDenomUnit_ == 0) revert InvalidParameter(24);
        ledger = ledger_;
        denom = denom_;
        baseUnitsPerDenomUnit = baseUnitsPerDenomUnit_;
        blockIntervalMs = blockIntervalMs_;
        minDeposit = minDeposit_;
        bidDeposit = bidDeposit_;
        bidTimeoutBlocks = bidTimeoutBlocks_;
        genesisMs = genesisMs_;
    }

    /// @notice Whole block intervals of chain time since the genesis time: the blocks leases are paid by.
    function marketHeight() public view returns (uint64) {
        uint256 nowMs = block.timestamp * 1000;
        return nowMs <= genesisMs ? 0 : uint64((nowMs - genesisMs) / blockIntervalMs);
    }

    // ---- relayed transactions ----

    /// @param pairs The attributes as the relayer parsed them: keccak256 of each key, then of its value.
    function relayRegisterProvider(
        address from, uint64 nonce, string calldata hostUri, string calldata attributes, string calldata capacity, bytes32[] calldata pairs, bytes calldata signature
    ) external {
        ledger.accept(from, nonce, keccak256(abi.encode(REGISTER_TYPEHASH, from, nonce, keccak256(bytes(hostUri)), keccak256(bytes(attributes)), keccak256(bytes(capacity)))), signature);
        if (bytes(hostUri).length == 0 || bytes(hostUri).length > 256) revert InvalidParameter(20);
        if (pairs.length % 2 != 0) revert InvalidParameter(24);
        Provider storage p = _providers[from];
        if (!p.exists) {
            p.exists = true;
            p.registeredAt = marketHeight();
            _providerList.push(from);
        }
        p.hostUri = hostUri;
        p.attributes = attributes;
        p.capacity = capacity;
        emit ProviderTouched(from);
        bytes32[] storage keys = _attrKeys[from];
        for (uint256 i = 0; i < keys.length; i++) delete _attr[from][keys[i]];
        delete _attrKeys[from];
        for (uint256 i = 0; i < pairs.length; i += 2) {
            _attr[from][pairs[i]] = pairs[i + 1];
            keys.push(pairs[i]);
        }
    }

    function relaySignProviderAttributes(address from, uint64 nonce, address provider, string calldata attributes, bytes32[] calldata pairs, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(AUDIT_TYPEHASH, from, nonce, provider, keccak256(bytes(attributes)))), signature);
        if (pairs.length % 2 != 0) revert InvalidParameter(24);
        if (!_providers[provider].exists) revert UnknownProvider(provider);
        emit ProviderTouched(provider);
        bytes32[] storage keys = _auditKeys[from][provider];
        for (uint256 i = 0; i < keys.length; i++) delete _audit[from][provider][keys[i]];
        delete _auditKeys[from][provider];
        if (pairs.length == 0) {
            delete _auditJson[from][provider];
            return;
        }
        if (!_isAuditor[provider][from]) {
            _isAuditor[provider][from] = true;
            _auditors[provider].push(from);
        }
        _auditJson[from][provider] = attributes;
        for (uint256 i = 0; i < pairs.length; i += 2) {
            _audit[from][provider][pairs[i]] = pairs[i + 1];
            keys.push(pairs[i]);
        }
    }

    /// @param parsed The groups as the relayer parsed them, word by word: the number of groups, then for each its
    /// ceiling per block (base units), the number of required attributes and their key and value hashes, the number of
    /// signedBy.allOf auditors and their addresses, the number of signedBy.anyOf auditors and their addresses.
    function relayCreateDeployment(
        address from, uint64 nonce, uint64 dseq, bytes32 manifestHash, string calldata groups, uint256 deposit, bytes32[] calldata parsed, bytes calldata signature
    ) external {
        ledger.accept(from, nonce, keccak256(abi.encode(CREATE_TYPEHASH, from, nonce, dseq, manifestHash, keccak256(bytes(groups)), deposit)), signature);
        if (dseq == 0) revert InvalidParameter(22);
        bytes32 dk = _dkey(from, dseq);
        Deployment storage d = _deployments[dk];
        if (d.status != 0) revert DeploymentExists(from, dseq);
        if (manifestHash == bytes32(0)) revert InvalidParameter(23);
        uint256 count = parsed.length == 0 ? 0 : uint256(parsed[0]);
        if (count == 0 || count > MAX_GROUPS) revert InvalidParameter(21);
        if (deposit < minDeposit) revert DepositTooSmall(minDeposit, deposit);
        ledger.escrow(from, deposit);
        uint64 height = marketHeight();
        d.owner = from;
        d.dseq = dseq;
        d.manifestHash = manifestHash;
        d.status = 1;
        d.groupCount = uint32(count);
        d.createdAt = height;
        d.settledAt = height;
        d.balance = deposit;
        d.deposited = deposit;
        d.groups = groups;
        _deploymentList.push(dk);
        uint256 pos = 1;
        for (uint32 g = 1; g <= count; g++) {
            Group storage group = _groups[dk][g];
            group.ceiling = uint256(_word(parsed, pos++));
            uint256 n = uint256(_word(parsed, pos++));
            for (uint256 i = 0; i < 2 * n; i++) group.required.push(_word(parsed, pos++));
            n = uint256(_word(parsed, pos++));
            for (uint256 i = 0; i < n; i++) group.allOf.push(address(uint160(uint256(_word(parsed, pos++)))));
            n = uint256(_word(parsed, pos++));
            for (uint256 i = 0; i < n; i++) group.anyOf.push(address(uint160(uint256(_word(parsed, pos++)))));
            group.orderCount = 1;
            _orders[_okey(dk, g, 1)].status = 1;
            _orders[_okey(dk, g, 1)].createdAt = height;
        }
        if (pos != parsed.length) revert InvalidParameter(24);
        emit DeploymentTouched(from, dseq);
    }

    function relayDepositDeployment(address from, uint64 nonce, address owner, uint64 dseq, uint256 amount, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(DEPOSIT_TYPEHASH, from, nonce, owner, dseq, amount)), signature);
        bytes32 dk = _active(owner, dseq);
        if (amount == 0) revert InvalidAmount(0);
        ledger.escrow(from, amount);
        Deployment storage d = _deployments[dk];
        _settle(dk, marketHeight());
        d.balance += amount;
        d.deposited += amount;
    }

    function relayCloseDeployment(address from, uint64 nonce, address owner, uint64 dseq, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(CLOSE_DEPLOYMENT_TYPEHASH, from, nonce, owner, dseq)), signature);
        bytes32 dk = _active(owner, dseq);
        if (from != owner) revert NotOwner(owner, address(0));
        uint64 height = marketHeight();
        _settle(dk, height);
        _close(dk, 2, 1, height);
    }

    function relayCreateBid(address from, uint64 nonce, address owner, uint64 dseq, uint32 gseq, uint32 oseq, uint256 price, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(BID_TYPEHASH, from, nonce, owner, dseq, gseq, oseq, price)), signature);
        if (!_providers[from].exists) revert UnknownProvider(from);
        bytes32 dk = _active(owner, dseq);
        bytes32 ok = _order(dk, gseq, oseq);
        Order storage o = _orders[ok];
        if (o.status != 1) revert OrderNotOpen(o.status);
        Bid storage existing = _bids[ok][from];
        if (existing.status == 1) revert BidExists();
        if (price == 0) revert InvalidAmount(3);
        Group storage group = _groups[dk][gseq];
        if (price > group.ceiling) revert BidAboveCeiling(price, group.ceiling);
        _requirements(group, from);
        if (bidDeposit > 0) ledger.escrow(from, bidDeposit);
        if (existing.status == 0) o.bidders.push(from);
        _bids[ok][from] = Bid(price, marketHeight(), 1, bidDeposit);
    }

    function relayCloseBid(address from, uint64 nonce, address owner, uint64 dseq, uint32 gseq, uint32 oseq, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(CLOSE_BID_TYPEHASH, from, nonce, owner, dseq, gseq, oseq)), signature);
        bytes32 dk = _active(owner, dseq);
        bytes32 ok = _order(dk, gseq, oseq);
        Bid storage bid = _bids[ok][from];
        if (bid.status == 0) revert UnknownBid();
        if (bid.status != 1) revert BidNotOpen(bid.status);
        _closeBid(ok, from, 4);
    }

    function relayCreateLease(address from, uint64 nonce, address owner, uint64 dseq, uint32 gseq, uint32 oseq, address provider, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(LEASE_TYPEHASH, from, nonce, owner, dseq, gseq, oseq, provider)), signature);
        bytes32 dk = _existing(owner, dseq);
        if (from != owner) revert NotOwner(owner, address(0));
        Deployment storage d = _deployments[dk];
        if (d.status != 1) revert DeploymentClosed(owner, dseq, d.closeReason);
        bytes32 ok = _order(dk, gseq, oseq);
        Order storage o = _orders[ok];
        if (o.status != 1) revert OrderNotOpen(o.status);
        Bid storage bid = _bids[ok][provider];
        if (bid.status == 0) revert UnknownBid();
        if (bid.status != 1) revert BidNotOpen(bid.status);
        uint64 height = marketHeight();
        _settle(dk, height);
        bid.status = 2;
        for (uint256 i = 0; i < o.bidders.length; i++) {
            address other = o.bidders[i];
            if (other != provider && _bids[ok][other].status == 1) _closeBid(ok, other, 3);
        }
        o.status = 2;
        o.leaseProvider = provider;
        _leases[ok] = Lease(bid.price, height, 1, 0, 0, 0, 0);
    }

    function relayWithdrawLease(address from, uint64 nonce, address owner, uint64 dseq, uint32 gseq, uint32 oseq, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(WITHDRAW_TYPEHASH, from, nonce, owner, dseq, gseq, oseq)), signature);
        bytes32 dk = _existing(owner, dseq);
        bytes32 ok = _order(dk, gseq, oseq);
        address provider = _orders[ok].leaseProvider;
        if (provider == address(0)) revert UnknownLease(0);
        if (provider != from) revert NotProvider(provider);
        if (_deployments[dk].status == 1) _settle(dk, marketHeight());
        _payOut(ok, provider);
    }

    function relayCloseLease(address from, uint64 nonce, address owner, uint64 dseq, uint32 gseq, uint32 oseq, address provider, bytes calldata signature) external {
        ledger.accept(from, nonce, keccak256(abi.encode(CLOSE_LEASE_TYPEHASH, from, nonce, owner, dseq, gseq, oseq, provider)), signature);
        bytes32 dk = _existing(owner, dseq);
        bytes32 ok = _order(dk, gseq, oseq);
        Order storage o = _orders[ok];
        if (o.leaseProvider == address(0) || o.leaseProvider != provider) revert UnknownLease(o.leaseProvider == address(0) ? 0 : 1);
        if (from != owner && from != provider) revert NotOwner(owner, provider);
        Lease storage lease = _leases[ok];
        if (lease.status != 1) revert LeaseNotActive(lease.status);
        uint64 height = marketHeight();
        _settle(dk, height);
        bool byProvider = from == provider && from != owner;
        _endLease(ok, provider, 2, byProvider ? 2 : 1, height);
        o.status = 3;
        if (byProvider) {
            // A provider that drops a lease must not strand the tenant: the group takes bids again on a new order.
            Group storage group = _groups[dk][gseq];
            group.orderCount = oseq + 1;
            Order storage next = _orders[_okey(dk, gseq, oseq + 1)];
            next.status = 1;
            next.createdAt = height;
        }
    }

    // ---- anyone may do what the embedded ledger does at the start of each block ----

    /// @notice Closes the deployment if its escrow has run dry (paying its leases what is left), as the embedded ledger does at the block it runs dry.
    function settle(address owner, uint64 dseq) external {
        _existing(owner, dseq);
    }

    /// @notice Closes the order's bids that have waited bidTimeoutBlocks without an answer, returning their deposits.
    function expireBids(address owner, uint64 dseq, uint32 gseq, uint32 oseq) external {
        _order(_existing(owner, dseq), gseq, oseq);
    }

    // ---- views ----

    function providerCount() external view returns (uint256) {
        return _providerList.length;
    }

    function providerAt(uint256 index) external view returns (address) {
        return _providerList[index];
    }

    function providerOf(address provider) external view returns (string memory hostUri, string memory attributes, string memory capacity, uint64 registeredAt, bool exists) {
        Provider storage p = _providers[provider];
        return (p.hostUri, p.attributes, p.capacity, p.registeredAt, p.exists);
    }

    /// @notice Auditors that signed attributes of the provider, with what they signed (empty: revoked).
    function auditsOf(address provider) external view returns (address[] memory auditors, string[] memory attributes) {
        auditors = _auditors[provider];
        attributes = new string[](auditors.length);
        for (uint256 i = 0; i < auditors.length; i++) attributes[i] = _auditJson[auditors[i]][provider];
    }

    function deploymentCount() external view returns (uint256) {
        return _deploymentList.length;
    }

    function deploymentAt(uint256 index) external view returns (address owner, uint64 dseq) {
        Deployment storage d = _deployments[_deploymentList[index]];
        return (d.owner, d.dseq);
    }

    /// @notice A deployment as stored: settled when someone last acted on it (readers settle it to the head themselves).
    function deploymentOf(address owner, uint64 dseq) external view returns (Deployment memory) {
        return _deployments[_dkey(owner, dseq)];
    }

    function groupOf(address owner, uint64 dseq, uint32 gseq) external view returns (uint256 ceiling, uint32 orderCount) {
        Group storage g = _groups[_dkey(owner, dseq)][gseq];
        return (g.ceiling, g.orderCount);
    }

    function orderOf(address owner, uint64 dseq, uint32 gseq, uint32 oseq)
        external view returns (uint8 status, uint64 createdAt, address leaseProvider, address[] memory bidders, Bid[] memory bids, Lease memory lease)
    {
        bytes32 ok = _okey(_dkey(owner, dseq), gseq, oseq);
        Order storage o = _orders[ok];
        bids = new Bid[](o.bidders.length);
        for (uint256 i = 0; i < o.bidders.length; i++) bids[i] = _bids[ok][o.bidders[i]];
        return (o.status, o.createdAt, o.leaseProvider, o.bidders, bids, _leases[ok]);
    }

    // ---- rules ----

    function _dkey(address owner, uint64 dseq) private pure returns (bytes32) {
        return keccak256(abi.encode(owner, dseq));
    }

    function _okey(bytes32 dk, uint32 gseq, uint32 oseq) private pure returns (bytes32) {
        return keccak256(abi.encode(dk, gseq, oseq));
    }

    function _word(bytes32[] calldata words, uint256 index) private pure returns (bytes32) {
        if (index >= words.length) revert InvalidParameter(24);
        return words[index];
    }

    /// @dev The deployment, after what the start of this block would have done to it (closing it if its escrow ran dry).
    function _existing(address owner, uint64 dseq) private returns (bytes32 dk) {
        dk = _dkey(owner, dseq);
        Deployment storage d = _deployments[dk];
        if (d.status == 0) revert UnknownDeployment(owner, dseq);
        // Every transaction and keeper call on a deployment passes here: one event tells readers to re-read it.
        emit DeploymentTouched(owner, dseq);
        if (d.status == 1) {
            uint256 rate = _rate(dk);
            uint64 height = marketHeight();
            if (rate > 0 && height > d.settledAt && height - d.settledAt > d.balance / rate) _settle(dk, height);
        }
    }

    function _active(address owner, uint64 dseq) private returns (bytes32 dk) {
        dk = _existing(owner, dseq);
        Deployment storage d = _deployments[dk];
        if (d.status != 1) revert DeploymentClosed(owner, dseq, d.closeReason);
    }

    /// @dev The order, after timing out its unanswered bids.
    function _order(bytes32 dk, uint32 gseq, uint32 oseq) private returns (bytes32 ok) {
        Deployment storage d = _deployments[dk];
        if (gseq == 0 || gseq > d.groupCount) revert UnknownOrder(0, d.groupCount, 0);
        uint32 count = _groups[dk][gseq].orderCount;
        if (oseq == 0 || oseq > count) revert UnknownOrder(1, d.groupCount, count);
        ok = _okey(dk, gseq, oseq);
        Order storage o = _orders[ok];
        uint64 height = marketHeight();
        for (uint256 i = 0; i < o.bidders.length; i++) {
            Bid storage b = _bids[ok][o.bidders[i]];
            if (b.status == 1 && b.createdAt + bidTimeoutBlocks <= height) _closeBid(ok, o.bidders[i], 4);
        }
    }

    function _rate(bytes32 dk) private view returns (uint256 rate) {
        Deployment storage d = _deployments[dk];
        for (uint32 g = 1; g <= d.groupCount; g++) {
            Lease storage l = _leases[_okey(dk, g, _groups[dk][g].orderCount)];
            if (l.status == 1) rate += l.price;
        }
    }

    /// @dev Escrow.Plan: every active lease its price per block since the last settlement; an account that cannot pay
    /// that pays its whole blocks, splits the rest by price (dust to the first lease) and closes the deployment.
    function _settle(bytes32 dk, uint64 height) private {
        Deployment storage d = _deployments[dk];
        uint256 rate = _rate(dk);
        uint64 blocks = height > d.settledAt ? height - d.settledAt : 0;
        if (blocks == 0 || rate == 0) {
            if (height > d.settledAt) d.settledAt = height;
            return;
        }
        uint256 affordable = d.balance / rate;
        if (blocks <= affordable) {
            for (uint32 g = 1; g <= d.groupCount; g++) {
                Lease storage l = _leases[_okey(dk, g, _groups[dk][g].orderCount)];
                if (l.status == 1) l.accrued += l.price * blocks;
            }
            d.balance -= rate * blocks;
            d.transferred += rate * blocks;
            d.settledAt = height;
            return;
        }
        uint256 remainder = d.balance - rate * affordable;
        uint256 shared;
        bytes32 first;
        for (uint32 g = 1; g <= d.groupCount; g++) {
            bytes32 ok = _okey(dk, g, _groups[dk][g].orderCount);
            Lease storage l = _leases[ok];
            if (l.status != 1) continue;
            uint256 share = Math.mulDiv(remainder, l.price, rate);
            l.accrued += l.price * affordable + share;
            shared += share;
            if (first == bytes32(0)) first = ok;
        }
        if (first != bytes32(0)) _leases[first].accrued += remainder - shared;
        d.transferred += d.balance;
        d.balance = 0;
        d.overdrawn = true;
        d.settledAt = height;
        _close(dk, 3, 3, height);
    }

    /// @dev Closes a settled deployment: active leases end (paid out), open bids return deposits, orders close, the rest returns to the owner.
    function _close(bytes32 dk, uint8 leaseStatus, uint8 reason, uint64 height) private {
        Deployment storage d = _deployments[dk];
        for (uint32 g = 1; g <= d.groupCount; g++) {
            uint32 orders = _groups[dk][g].orderCount;
            for (uint32 k = 1; k <= orders; k++) {
                bytes32 ok = _okey(dk, g, k);
                Order storage o = _orders[ok];
                if (o.leaseProvider != address(0) && _leases[ok].status == 1) _endLease(ok, o.leaseProvider, leaseStatus, reason, height);
                for (uint256 i = 0; i < o.bidders.length; i++) {
                    if (_bids[ok][o.bidders[i]].status == 1) _closeBid(ok, o.bidders[i], 4);
                }
                o.status = 3;
            }
        }
        if (d.balance > 0) {
            uint256 rest = d.balance;
            d.balance = 0;
            ledger.transfer(d.owner, rest);
        }
        d.status = 2;
        d.closedAt = height;
        d.closeReason = reason;
    }

    function _endLease(bytes32 ok, address provider, uint8 status, uint8 reason, uint64 height) private {
        Lease storage lease = _leases[ok];
        lease.status = status;
        lease.closedAt = height;
        lease.closeReason = reason;
        _payOut(ok, provider);
        if (_bids[ok][provider].status != 0) _closeBid(ok, provider, 4);
    }

    function _payOut(bytes32 ok, address provider) private {
        Lease storage lease = _leases[ok];
        uint256 amount = lease.accrued;
        if (amount == 0) return;
        lease.withdrawn += amount;
        lease.accrued = 0;
        ledger.transfer(provider, amount);
    }

    function _closeBid(bytes32 ok, address provider, uint8 status) private {
        Bid storage bid = _bids[ok][provider];
        bid.status = status;
        uint256 held = bid.depositHeld;
        if (held > 0) {
            bid.depositHeld = 0;
            ledger.transfer(provider, held);
        }
    }

    /// @dev Placement.Unmet: every required attribute with the same value; the auditors of signedBy having signed them.
    function _requirements(Group storage group, address provider) private view {
        bytes32[] storage required = group.required;
        for (uint256 i = 0; i < required.length; i += 2) {
            if (_attr[provider][required[i]] != required[i + 1]) revert RequirementsNotMet(0);
        }
        for (uint256 i = 0; i < group.allOf.length; i++) {
            if (!_signed(required, group.allOf[i], provider)) revert RequirementsNotMet(1);
        }
        if (group.anyOf.length == 0) return;
        for (uint256 i = 0; i < group.anyOf.length; i++) {
            if (_signed(required, group.anyOf[i], provider)) return;
        }
        revert RequirementsNotMet(2);
    }

    function _signed(bytes32[] storage required, address auditor, address provider) private view returns (bool) {
        if (_auditKeys[auditor][provider].length == 0) return false;
        for (uint256 i = 0; i < required.length; i += 2) {
            if (_audit[auditor][provider][required[i]] != required[i + 1]) return false;
        }
        return true;
    }
}
