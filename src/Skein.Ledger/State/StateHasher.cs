using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.State;

/// <summary>
/// The state root: SHA-256 over a canonical encoding of the whole state (every collection in sorted order,
/// fixed-width big-endian integers, length-prefixed lists). Two nodes with the same state compute the same root.
/// </summary>
public static partial class StateHasher
{
    public static Hash32 Root(LedgerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var w = new Writer(h);
        w.Text("skein-state-v1");
        w.U64(state.ChainId);
        w.U64(state.Height);
        w.Hash(state.LastBlockHash);
        w.U128(state.GenesisSupply);
        w.U128(state.Emitted);
        w.U128(state.Burned);
        w.U64(state.SettledRounds);
        w.U64((ulong)state.Accounts.Count);
        foreach (var (address, account) in state.Accounts)
        {
            w.Address(address);
            w.U128(account.Balance);
            w.U64(account.Nonce);
        }
        w.U64((ulong)state.Stakes.Count);
        foreach (var ((address, role), stake) in state.Stakes)
        {
            w.Address(address);
            w.U64((byte)role);
            w.U128(stake.Self);
            w.U128(stake.Delegated);
        }
        w.U64((ulong)state.Delegations.Count);
        foreach (var ((delegator, operatorAddress, role), amount) in state.Delegations)
        {
            w.Address(delegator);
            w.Address(operatorAddress);
            w.U64((byte)role);
            w.U128(amount);
        }
        w.U64((ulong)state.Commissions.Count);
        foreach (var (address, bps) in state.Commissions)
        {
            w.Address(address);
            w.U64(bps);
        }
        w.U64(state.NextUnbondingSequence);
        w.U64((ulong)state.Unbondings.Count);
        foreach (var u in state.Unbondings)
        {
            w.U64(u.Sequence);
            w.Address(u.Owner);
            w.U128(u.Amount);
            w.U64(u.ReleaseHeight);
        }
        w.U64(state.NextTaskId);
        w.U64((ulong)state.Tasks.Count);
        foreach (var task in state.Tasks.Values)
        {
            WriteTask(w, task);
        }
        // Chains without a market keep the roots they had before the market existed.
        if (!state.Market.IsEmpty)
        {
            WriteMarket(w, state.Market);
        }
        // Likewise chains that never used governance.
        if (HasGovernance(state))
        {
            WriteGovernance(w, state);
        }
        w.Flush();
        return new Hash32(h.GetHashAndReset());
    }

    private static void WriteTask(Writer w, TaskState t)
    {
        w.U64(t.Id);
        w.Address(t.Creator);
        w.Hash(t.SpecHash);
        w.U128(t.RewardPool);
        w.U128(t.Escrow);
        w.U64(t.Rounds);
        w.U128(t.MinStake);
        w.U64(t.TrainersPerRound);
        w.U64(t.ValidatorsPerRound);
        w.U64(t.RejectBelow);
        w.U64(t.SettledRounds);
        w.U64(t.Completed ? 1UL : 0UL);
        w.Hash(t.ModelHash);
        w.Addresses(t.Trainers);
        w.Addresses(t.Validators);
        // Federated tasks keep the roots they had before tournaments existed.
        if (t.Tournament is { } tournament)
        {
            w.U64(0x746F75726E616D74); // "tournamt": no federated task's next field can be mistaken for it
            w.U64(tournament.SubmissionsPerTrainer);
            w.U64(tournament.DecayBps);
            w.U64(tournament.SideFloorBps);
        }
        // Likewise tasks never handed over nor cancelled.
        if (t.Cancelled || t.Coordinator != t.Creator)
        {
            w.U64(0x6C6976656E657373); // "liveness"
            w.Address(t.Coordinator);
            w.Bool(t.Cancelled);
            w.U128(t.Refunded);
        }
        w.U64((ulong)t.RoundStates.Count);
        foreach (var r in t.RoundStates.Values)
        {
            w.U64(r.Round);
            w.Hash(r.Seed);
            w.Hash(r.ModelHash);
            w.U64((byte)r.Phase);
            w.Addresses(r.PickedTrainers);
            w.Addresses(r.PickedValidators);
            w.U64((ulong)r.Updates.Count);
            foreach (var u in r.Updates)
            {
                w.Address(u.Trainer);
                w.Hash(u.UpdateHash);
                w.U64(u.Samples);
            }
            w.U64((ulong)r.Commitments.Count);
            foreach (var (v, c) in r.Commitments)
            {
                w.Address(v);
                w.Hash(c);
            }
            w.U64((ulong)r.Reveals.Count);
            foreach (var (v, scores) in r.Reveals)
            {
                w.Address(v);
                w.U64((ulong)scores.Length);
                foreach (var s in scores)
                {
                    w.U64(s);
                }
            }
            w.Hash(r.NewModelHash);
            w.U128(r.Reward);
            w.U64((ulong)r.Outcomes.Count);
            foreach (var o in r.Outcomes)
            {
                w.Address(o.Trainer);
                w.Hash(o.UpdateHash);
                w.U64(o.ConsensusScore);
                w.U64(o.Accepted ? 1UL : 0UL);
                w.U128(o.Reward);
            }
            w.U64((ulong)r.Movements.Count);
            foreach (var m in r.Movements)
            {
                w.Address(m.Account);
                w.Text(m.Kind);
                w.U128(m.Amount);
                w.Text(m.Reason);
            }
            if (t.Tournament is not null)
            {
                foreach (var stakes in new[] { r.SettledTrainerStakes, r.SettledValidatorStakes })
                {
                    w.U64((ulong)stakes.Count);
                    foreach (var (a, amount) in stakes)
                    {
                        w.Address(a);
                        w.U128(amount);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The canonical encoding, fed to the hash in large chunks: the state of a long chain is hundreds of thousands of
    /// small fields, and handing each to the hash on its own cost more than the hashing (the bytes hashed are the same).
    /// </summary>
    private sealed class Writer(IncrementalHash hash)
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _used;

        public void U64(ulong v) => BinaryPrimitives.WriteUInt64BigEndian(Take(8), v);

        public void U128(UInt128 v) => BinaryPrimitives.WriteUInt128BigEndian(Take(16), v);

        public void Address(Address a) => a.WriteTo(Take(Skein.Ledger.Address.Length));

        public void Addresses(IEnumerable<Address> addresses)
        {
            var list = addresses as IReadOnlyCollection<Address> ?? addresses.ToArray();
            U64((ulong)list.Count);
            foreach (var a in list)
            {
                Address(a);
            }
        }

        public void Hash(Hash32 h) => h.Bytes.CopyTo(Take(32));

        public void Bool(bool b) => U64(b ? 1UL : 0UL);

        public void Text(string s)
        {
            var length = Encoding.UTF8.GetByteCount(s);
            U64((ulong)length);
            if (length <= _buffer.Length)
            {
                Encoding.UTF8.GetBytes(s, Take(length));
                return;
            }
            Flush();
            hash.AppendData(Encoding.UTF8.GetBytes(s));
        }

        /// <summary>Hands what is buffered to the hash; call before reading the hash.</summary>
        public void Flush()
        {
            hash.AppendData(_buffer, 0, _used);
            _used = 0;
        }

        private Span<byte> Take(int count)
        {
            if (_used + count > _buffer.Length)
            {
                Flush();
            }
            var span = _buffer.AsSpan(_used, count);
            _used += count;
            return span;
        }
    }
}
