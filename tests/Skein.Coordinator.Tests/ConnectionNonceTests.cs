using Skein.Ledger;
using Skein.Learning.Models;
using Skein.Ledger.Transactions;
using Skein.Node;

namespace Skein.Coordinator.Tests;

/// <summary>A connection counts its own nonces: transactions at once from one node all land, and a nonce moved elsewhere is caught up with.</summary>
public sealed class ConnectionNonceTests() : OpenRoundFixture("nonce-", ModelKind.LogReg, 64 * 1024)
{
    [Fact]
    public async Task Transactions_sent_at_once_all_land_in_order_of_their_nonces()
    {
        var node = Nodes["t3"];
        var before = (await node.AccountAsync(Ct)).Nonce;
        var to = Key("v1").Address;
        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => node.SendAsync((f, n) => new Transfer { From = f, Nonce = n, To = to, Amount = Tokens.Whole(1) }, Ct)));
        Assert.Equal(8, replies.Select(r => r.Id).Distinct().Count());
        Assert.Equal(before + 8, (await node.AccountAsync(Ct)).Nonce);
    }

    [Fact]
    public async Task A_nonce_used_by_another_connection_of_the_same_key_is_caught_up_with()
    {
        var node = Nodes["t3"];
        var to = Key("v1").Address;
        await node.SendAsync((f, n) => new Transfer { From = f, Nonce = n, To = to, Amount = Tokens.Whole(1) }, Ct);
        // The same key signs elsewhere (a second process, a CLI), twice: the first connection's count is now stale.
        using (var elsewhere = new CoordinatorConnection(Host.Uri, Key("t3")))
        {
            await elsewhere.SignInAsync(Ct);
            await elsewhere.SendAsync((f, n) => new Transfer { From = f, Nonce = n, To = to, Amount = Tokens.Whole(1) }, Ct);
            await elsewhere.SendAsync((f, n) => new Transfer { From = f, Nonce = n, To = to, Amount = Tokens.Whole(1) }, Ct);
        }
        var used = new List<ulong>();
        await node.SendAsync((f, n) =>
        {
            used.Add(n);
            return new Transfer { From = f, Nonce = n, To = to, Amount = Tokens.Whole(1) };
        }, Ct);
        // Signed once with the stale count, refused, then again with the ledger's nonce.
        Assert.Equal(2, used.Count);
        Assert.Equal(used[0] + 2, used[1]);
        Assert.Equal(used[1] + 1, (await node.AccountAsync(Ct)).Nonce);
    }
}
