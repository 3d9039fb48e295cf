using System.Text.Json;
using Skein.Ledger.State;
using Skein.Ledger.Tests.Market;
using Skein.Ledger.Tests.Rules;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.State;

public sealed class StateHasherTests
{
    /// <summary>
    /// The root of a fixed state (twelve settled rounds, a provider with attributes) is pinned: the encoding is a
    /// contract between nodes, so a faster hasher must hash exactly the same bytes (this value predates the buffered one).
    /// </summary>
    [Fact]
    public void The_root_of_a_known_state_never_changes()
    {
        var c = new TestChain("carol", "t1", "t2", "t3", "v1", "v2", "v3", "p");
        c.Do("carol", (f, n) => TestRound.Task(f, n, pool: 600, rounds: 12));
        foreach (var t in new[] { "t1", "t2", "t3" })
        {
            c.Do(t, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(100) });
            c.Do(t, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Trainer });
        }
        foreach (var v in new[] { "v1", "v2", "v3" })
        {
            c.Do(v, (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(200) });
            c.Do(v, (f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = Role.Validator });
        }
        var attributes = JsonSerializer.Serialize(Enumerable.Range(0, 40).ToDictionary(i => $"key-{i}", i => new string((char)('a' + (i % 26)), 100)));
        c.Do("p", (f, n) => new RegisterProvider { From = f, Nonce = n, HostUri = "https://p.example/", Attributes = attributes, Capacity = MarketChain.CapacityJson });
        c.NextBlock();
        for (uint r = 1; r <= 12; r++)
        {
            TestRound.Open(c, r, TestRound.Hash((int)r - 1));
            foreach (var (t, i) in new[] { ("t1", 1), ("t2", 2), ("t3", 3) })
            {
                TestRound.Submit(c, t, r, (int)(r * 10) + i);
            }
            TestRound.Close(c, r, training: true);
            ulong[] scores = [900_000 - r, 800_000 + r, r % 3 == 0 ? 100_000UL : 700_000UL];
            foreach (var v in new[] { "v1", "v2", "v3" })
            {
                TestRound.Commit(c, v, r, scores);
            }
            TestRound.Close(c, r, training: false);
            foreach (var v in r % 4 == 0 ? new[] { "v1", "v2" } : new[] { "v1", "v2", "v3" })
            {
                TestRound.Reveal(c, v, r, scores);
            }
            TestRound.Finalize(c, r, TestRound.Hash((int)r));
            c.NextBlock();
        }

        Assert.Equal("0xf3b76844078da4ce569508ae8eca42a024ce598b296069453880719aecbfaa8b", StateHasher.Root(c.State).ToString());
    }
}
