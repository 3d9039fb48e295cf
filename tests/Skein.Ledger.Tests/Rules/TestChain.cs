using System.Security.Cryptography;
using System.Text;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Rules;

/// <summary>A small chain for rule tests: named deterministic keys, a genesis funding them, and helpers to sign and apply.</summary>
internal sealed class TestChain
{
    public const ulong ChainId = 31337;

    private readonly Dictionary<string, LedgerKey> _keys = [];

    public TestChain(params string[] names)
        : this(LedgerParams.Default with { UnbondingBlocks = 3 }, names)
    {
    }

    public TestChain(LedgerParams parameters, params string[] names)
    {
        foreach (var name in names)
        {
            _keys[name] = Key(name);
        }
        Genesis = new Genesis(ChainId, parameters,
            _keys.Values.Select(k => new GenesisAllocation(k.Address, Tokens.Whole(1_000))).ToArray(), 0);
        State = LedgerState.FromGenesis(Genesis);
        Height = 1;
    }

    public Genesis Genesis { get; }

    public LedgerState State { get; }

    public ulong Height { get; private set; }

    /// <summary>The current block's time (Unix ms); <see cref="NextBlock"/> moves it one market block on by default.</summary>
    public long Time { get; private set; }

    public static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("skein-test-" + name)));

    public Address this[string name] => _keys[name].Address;

    public LedgerKey KeyOf(string name) => _keys[name];

    public SignedTransaction Sign(string name, Func<Address, ulong, Transaction> build) =>
        _keys[name].SignTransaction(build(_keys[name].Address, State.NonceOf(_keys[name].Address)), ChainId) with { ChainId = ChainId };

    /// <summary>Signs and applies in the current block.</summary>
    public void Do(string name, Func<Address, ulong, Transaction> build) => StateMachine.Apply(State, Sign(name, build), Context);

    public BlockContext Context => new(Height, new Hash32(SHA256.HashData(BitConverter.GetBytes(Height))), Time);

    /// <summary>Starts the next block, <paramref name="advanceMs"/> later (default: one market block interval).</summary>
    public void NextBlock(long? advanceMs = null)
    {
        Height++;
        Time += advanceMs ?? (long)Genesis.Params.MarketRules.BlockIntervalMs;
        State.Height = Height;
        StateMachine.BeginBlock(State, Context);
    }

    /// <summary>Asserts the transaction is refused with <paramref name="code"/> and leaves the state root unchanged.</summary>
    public LedgerException Refused(LedgerError code, SignedTransaction tx)
    {
        var before = StateHasher.Root(State);
        var ex = Assert.Throws<LedgerException>(() => StateMachine.Apply(State, tx, Context));
        Assert.Equal(code, ex.Code);
        Assert.Equal(before, StateHasher.Root(State));
        return ex;
    }

    public LedgerException Refused(LedgerError code, string name, Func<Address, ulong, Transaction> build) => Refused(code, Sign(name, build));
}
