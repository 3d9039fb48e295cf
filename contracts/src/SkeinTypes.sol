// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice The role a stake backs, as Skein.Ledger.Transactions.Role numbers it.
enum Role { None, Trainer, Validator }
