// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {SkeinRandom} from "./SkeinRandom.sol";

/// @title The ledger's selection of a round's trainers and validators, callable by anyone (it holds no state), so
/// that a round's picks can be checked against its seed and eligible members without trusting the coordinator.
/// Kept out of SkeinLedger to hold that contract under the 24 KB code size limit.
contract SkeinPick {
    /// @notice StateMachine.Pick: up to count of eligible (sorted by address), drawn from seed for purpose.
    function pick(address[] calldata eligible, uint32 count, bytes32 seed, string calldata purpose) external pure returns (address[] memory) {
        return SkeinRandom.pick(eligible, count, seed, bytes(purpose));
    }
}
