// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Skein's deterministic random numbers, bit for bit as Skein.Core.DeterministicRandom computes them
/// (SplitMix64 seeding, xoshiro256**, Lemire's unbiased bounded integers, partial Fisher-Yates), so that the
/// embedded ledger and the contract pick the same trainers and validators from the same seed.
library SkeinRandom {
    struct State {
        uint64 s0;
        uint64 s1;
        uint64 s2;
        uint64 s3;
    }

    uint64 private constant GOLDEN = 0x9E3779B97F4A7C15;

    /// @notice DeterministicRandom.Derive(seed, purpose, 0): FNV-style mixing of the purpose's characters (ASCII).
    function derive(uint64 seed, bytes memory purpose) internal pure returns (State memory) {
        unchecked {
            uint64 h = seed ^ GOLDEN;
            for (uint256 i = 0; i < purpose.length; i++) {
                h = (h ^ uint64(uint8(purpose[i]))) * 0x100000001B3;
            }
            // index 0: h ^= 0 * 0xBF58476D1CE4E5B9
            uint64 x = h;
            (uint64 seeded,) = _splitMix(x);
            return fromSeed(seeded);
        }
    }

    function fromSeed(uint64 seed) internal pure returns (State memory st) {
        uint64 x = seed;
        (st.s0, x) = _splitMix(x);
        (st.s1, x) = _splitMix(x);
        (st.s2, x) = _splitMix(x);
        (st.s3, x) = _splitMix(x);
    }

    function nextUInt64(State memory st) internal pure returns (uint64 result) {
        unchecked {
            result = _rotl(st.s1 * 5, 7) * 9;
            uint64 t = st.s1 << 17;
            st.s2 ^= st.s0;
            st.s3 ^= st.s1;
            st.s1 ^= st.s2;
            st.s0 ^= st.s3;
            st.s2 ^= t;
            st.s3 = _rotl(st.s3, 45);
        }
    }

    /// @notice Uniform in [0, range), without modulo bias (Lemire's method), as NextInt.
    function nextInt(State memory st, uint64 range) internal pure returns (uint64) {
        unchecked {
            uint256 m = uint256(nextUInt64(st)) * range;
            uint64 low = uint64(m);
            if (low < range) {
                uint64 threshold = (0 - range) % range;
                while (low < threshold) {
                    m = uint256(nextUInt64(st)) * range;
                    low = uint64(m);
                }
            }
            return uint64(m >> 64);
        }
    }

    /// @notice k distinct indices of [0, n), ascending, as SampleWithoutReplacement.
    function sample(State memory st, uint256 n, uint256 k) internal pure returns (uint256[] memory picked) {
        uint256[] memory all = new uint256[](n);
        for (uint256 i = 0; i < n; i++) all[i] = i;
        for (uint256 i = 0; i < k; i++) {
            uint256 j = i + nextInt(st, uint64(n - i));
            (all[i], all[j]) = (all[j], all[i]);
        }
        picked = new uint256[](k);
        for (uint256 i = 0; i < k; i++) picked[i] = all[i];
        _sort(picked);
    }

    /// @notice StateMachine.Pick: up to count of the eligible (sorted by address), drawn from the seed's first 8 bytes.
    function pick(address[] memory eligible, uint256 count, bytes32 seed, bytes memory purpose) internal pure returns (address[] memory chosen) {
        uint256 k = count < eligible.length ? count : eligible.length;
        State memory st = derive(uint64(bytes8(seed)), purpose);
        uint256[] memory idx = sample(st, eligible.length, k);
        chosen = new address[](k);
        for (uint256 i = 0; i < k; i++) chosen[i] = eligible[idx[i]];
    }

    /// @notice Sorts addresses ascending by their 20 bytes (as Skein's Address orders them); insertion sort, for the small lists of a task.
    function sortAddresses(address[] memory a) internal pure {
        for (uint256 i = 1; i < a.length; i++) {
            address v = a[i];
            uint256 j = i;
            while (j > 0 && uint160(a[j - 1]) > uint160(v)) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = v;
        }
    }

    function _sort(uint256[] memory a) private pure {
        for (uint256 i = 1; i < a.length; i++) {
            uint256 v = a[i];
            uint256 j = i;
            while (j > 0 && a[j - 1] > v) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = v;
        }
    }

    function _splitMix(uint64 x) private pure returns (uint64 z, uint64 next) {
        unchecked {
            next = x + GOLDEN;
            z = next;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            z = z ^ (z >> 31);
        }
    }

    function _rotl(uint64 x, uint64 k) private pure returns (uint64) {
        unchecked {
            return (x << k) | (x >> (64 - k));
        }
    }
}
