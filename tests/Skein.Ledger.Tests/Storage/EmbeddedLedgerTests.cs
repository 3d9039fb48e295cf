using Microsoft.Data.Sqlite;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Tests.Rules;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Storage;

public sealed class EmbeddedLedgerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-ledger-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private string DbPath => Path.Combine(_dir, "chain.db");

    private static async Task Transfers(EmbeddedLedger ledger, TestChain c, int blocks, int perBlock)
    {
        for (var b = 0; b < blocks; b++)
        {
            var batch = new List<SignedTransaction>();
            for (var i = 0; i < perBlock; i++)
            {
                var (from, to) = i % 2 == 0 ? ("alice", "bob") : ("bob", "alice");
                var nonce = await ledger.GetNonceAsync(c[from], TestContext.Current.CancellationToken) + (ulong)batch.Count(t => t.Tx.From == c[from]);
                batch.Add(c.KeyOf(from).SignTransaction(new Transfer { From = c[from], Nonce = nonce, To = c[to], Amount = Tokens.Whole(1) }, TestChain.ChainId) with { ChainId = TestChain.ChainId });
            }
            var results = await ledger.SubmitBatchAsync(batch, TestContext.Current.CancellationToken);
            Assert.All(results, r => Assert.Null(r.Refusal));
        }
    }

    [Fact]
    public async Task A_reopened_ledger_resumes_at_its_last_block()
    {
        var c = new TestChain("alice", "bob");
        LedgerStatus before;
        await using (var ledger = await EmbeddedLedger.OpenAsync(DbPath, c.Genesis, cancellationToken: TestContext.Current.CancellationToken))
        {
            await Transfers(ledger, c, 5, 4);
            before = await ledger.GetStatusAsync(TestContext.Current.CancellationToken);
        }
        await using var reopened = await EmbeddedLedger.OpenAsync(DbPath, cancellationToken: TestContext.Current.CancellationToken);
        var after = await reopened.GetStatusAsync(TestContext.Current.CancellationToken);
        Assert.Equal(5UL, after.Height);
        Assert.Equal(before.HeadHash, after.HeadHash);
        Assert.Equal(before.StateRoot, after.StateRoot);
        Assert.Equal(10UL, await reopened.GetNonceAsync(c["alice"], TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Verification_replays_every_block_and_state_root()
    {
        var c = new TestChain("alice", "bob");
        await using (var ledger = await EmbeddedLedger.OpenAsync(DbPath, c.Genesis, cancellationToken: TestContext.Current.CancellationToken))
        {
            await Transfers(ledger, c, 4, 3);
        }
        var report = await EmbeddedLedger.VerifyAsync(DbPath, TestContext.Current.CancellationToken);
        Assert.True(report.Ok, report.Reason);
        Assert.Equal(5UL, report.BlocksChecked);
        Assert.Equal(12UL, report.TransactionsChecked);
    }

    [Theory]
    [InlineData("body", "invalid")]
    [InlineData("state_root", "stored hash")]
    [InlineData("state_root_rehashed", "state_root")]
    [InlineData("previous_hash", "stored hash")]
    [InlineData("delete", "counts")]
    public async Task Verification_names_the_first_tampered_block(string what, string reason)
    {
        var c = new TestChain("alice", "bob");
        await using (var ledger = await EmbeddedLedger.OpenAsync(DbPath, c.Genesis, cancellationToken: TestContext.Current.CancellationToken))
        {
            await Transfers(ledger, c, 5, 2);
        }
        SqliteConnection.ClearAllPools();
        // A consistent forgery: a wrong state root with the header hash recomputed, so only the replay can tell.
        BlockHeader header;
        using (var store = await BlockStore.OpenAsync(DbPath, TestContext.Current.CancellationToken))
        {
            header = (await store.ReadHeaderAsync(3, TestContext.Current.CancellationToken))! with { StateRoot = Hash32.Zero };
        }
        SqliteConnection.ClearAllPools();
        await using (var db = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            await db.OpenAsync(TestContext.Current.CancellationToken);
            var cmd = db.CreateCommand();
            cmd.CommandText = what switch
            {
                "body" => "UPDATE transactions SET body = replace(body, '\"amount\":\"1000000000000000000\"', '\"amount\":\"9000000000000000000\"') WHERE height = 3 AND idx = 0",
                "state_root" => "UPDATE blocks SET state_root = zeroblob(32) WHERE height = 3",
                "previous_hash" => "UPDATE blocks SET previous_hash = zeroblob(32) WHERE height = 3",
                "state_root_rehashed" => $"UPDATE blocks SET state_root = zeroblob(32), hash = x'{Convert.ToHexString(header.Hash.Bytes)}' WHERE height = 3",
                _ => "DELETE FROM transactions WHERE height = 3 AND idx = 1",
            };
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        }
        var report = await EmbeddedLedger.VerifyAsync(DbPath, TestContext.Current.CancellationToken);
        Assert.False(report.Ok);
        Assert.Equal(3UL, report.FirstBadBlock);
        Assert.Contains(reason, report.Reason, StringComparison.Ordinal);
        var ex = await Assert.ThrowsAsync<LedgerException>(async () => await EmbeddedLedger.OpenAsync(DbPath, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("block 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_keeps_its_good_transactions_and_names_the_refused_ones()
    {
        var c = new TestChain("alice", "bob");
        await using var ledger = await EmbeddedLedger.OpenAsync(DbPath, c.Genesis, cancellationToken: TestContext.Current.CancellationToken);
        var good = c.KeyOf("alice").SignTransaction(new Transfer { From = c["alice"], Nonce = 0, To = c["bob"], Amount = Tokens.Whole(5) }, TestChain.ChainId);
        var replay = good;
        var broke = c.KeyOf("bob").SignTransaction(new Transfer { From = c["bob"], Nonce = 0, To = c["alice"], Amount = Tokens.Whole(5_000) }, TestChain.ChainId);
        var results = await ledger.SubmitBatchAsync([good, replay, broke], TestContext.Current.CancellationToken);
        Assert.NotNull(results[0].Receipt);
        Assert.Equal(LedgerError.BadNonce, results[1].Refusal!.Code);
        Assert.Equal(LedgerError.InsufficientBalance, results[2].Refusal!.Code);
        var block = await ledger.GetBlockAsync(1, TestContext.Current.CancellationToken);
        Assert.Equal(1, block!.TxCount);
        var found = await ledger.GetTransactionAsync(results[0].Receipt!.Id, TestContext.Current.CancellationToken);
        Assert.Equal(good.Tx, found!.Value.Transaction.Tx);
        // All refused: no block at all.
        var none = await ledger.SubmitBatchAsync([replay], TestContext.Current.CancellationToken);
        Assert.Null(none[0].Receipt);
        Assert.Equal(1UL, (await ledger.GetStatusAsync(TestContext.Current.CancellationToken)).Height);
    }

    [Fact]
    public async Task The_status_names_the_state_root_of_the_head_block_through_blocks_refusals_and_empty_blocks()
    {
        var ct = TestContext.Current.CancellationToken;
        var c = new TestChain("alice", "bob");
        await using var ledger = await EmbeddedLedger.OpenAsync(DbPath, c.Genesis, cancellationToken: ct);
        async Task HeadRootIsTheStatusRoot()
        {
            var status = await ledger.GetStatusAsync(ct);
            Assert.Equal((await ledger.GetBlockAsync(status.Height, ct))!.StateRoot, status.StateRoot);
            Assert.Equal((await EmbeddedLedger.VerifyAsync(DbPath, ct)).HeadStateRoot, status.StateRoot);
        }

        await HeadRootIsTheStatusRoot();
        await Transfers(ledger, c, 2, 3);
        await HeadRootIsTheStatusRoot();
        var replayed = c.KeyOf("alice").SignTransaction(new Transfer { From = c["alice"], Nonce = 0, To = c["bob"], Amount = Tokens.Whole(1) }, TestChain.ChainId);
        Assert.NotNull((await ledger.SubmitBatchAsync([replayed], ct))[0].Refusal);
        await HeadRootIsTheStatusRoot();
        await ledger.ProduceEmptyBlockAsync(ct);
        await HeadRootIsTheStatusRoot();
    }

    [Fact]
    public async Task Another_genesis_for_an_existing_chain_is_refused()
    {
        var c = new TestChain("alice", "bob");
        await using (await EmbeddedLedger.OpenAsync(DbPath, c.Genesis, cancellationToken: TestContext.Current.CancellationToken))
        {
        }
        var other = c.Genesis with { ChainId = 99 };
        var ex = await Assert.ThrowsAsync<LedgerException>(async () => await EmbeddedLedger.OpenAsync(DbPath, other, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(LedgerError.InvalidGenesis, ex.Code);
        await Assert.ThrowsAsync<LedgerException>(async () => await EmbeddedLedger.OpenAsync(Path.Combine(_dir, "none.db"), cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Replaying_random_batches_reproduces_every_state_root()
    {
        var c = new TestChain("alice", "bob");
        await using (var ledger = await EmbeddedLedger.OpenAsync(DbPath, c.Genesis, cancellationToken: TestContext.Current.CancellationToken))
        {
            var rng = new Random(3);
            for (var b = 0; b < 12; b++)
            {
                var txs = new List<SignedTransaction>();
                var nonces = new Dictionary<string, ulong>
                {
                    ["alice"] = await ledger.GetNonceAsync(c["alice"], TestContext.Current.CancellationToken),
                    ["bob"] = await ledger.GetNonceAsync(c["bob"], TestContext.Current.CancellationToken),
                };
                for (var i = 0; i < rng.Next(1, 6); i++)
                {
                    var who = rng.Next(2) == 0 ? "alice" : "bob";
                    Transaction tx = rng.Next(3) switch
                    {
                        0 => new Stake { From = c[who], Nonce = nonces[who], Role = Role.Trainer, Amount = Tokens.Whole((ulong)rng.Next(1, 50)) },
                        1 => new Unstake { From = c[who], Nonce = nonces[who], Role = Role.Trainer, Amount = Tokens.Whole((ulong)rng.Next(1, 20)) },
                        _ => new Transfer { From = c[who], Nonce = nonces[who], To = c[who == "alice" ? "bob" : "alice"], Amount = Tokens.Whole((ulong)rng.Next(1, 100)) },
                    };
                    var results = await ledger.SubmitBatchAsync([c.KeyOf(who).SignTransaction(tx, TestChain.ChainId)], TestContext.Current.CancellationToken);
                    if (results[0].Receipt is not null)
                    {
                        nonces[who]++;
                    }
                }
                await ledger.ProduceEmptyBlockAsync(TestContext.Current.CancellationToken);
            }
        }
        var report = await EmbeddedLedger.VerifyAsync(DbPath, TestContext.Current.CancellationToken);
        Assert.True(report.Ok, report.Reason);
        await using var reopened = await EmbeddedLedger.OpenAsync(DbPath, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(report.HeadStateRoot, (await reopened.GetStatusAsync(TestContext.Current.CancellationToken)).StateRoot);
    }
    [Fact]
    public async Task Submissions_that_arrive_while_a_block_is_sealed_share_the_next_block_each_with_its_own_outcome()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] names = ["a", "b", "c", "d", "e"];
        var c = new TestChain([.. names, "sink"]);
        await using var ledger = await EmbeddedLedger.OpenAsync(DbPath, c.Genesis, cancellationToken: ct);
        var start = (await ledger.GetStatusAsync(ct)).Height;
        var signed = names.Select(n => c.KeyOf(n).SignTransaction(new Transfer { From = c[n], Nonce = 0, To = c["sink"], Amount = Tokens.Whole(1) }, TestChain.ChainId) with { ChainId = TestChain.ChainId }).ToList();
        // "c" sends a transaction with a nonce from the future: refused on its own, the others land.
        signed[2] = c.KeyOf("c").SignTransaction(new Transfer { From = c["c"], Nonce = 7, To = c["sink"], Amount = Tokens.Whole(1) }, TestChain.ChainId) with { ChainId = TestChain.ChainId };
        Task<TxReceipt>[] submissions;
        using (await ledger.HoldAsync(ct))
        {
            submissions = [.. signed.Select(s => ledger.SubmitAsync(s, ct))];
            Assert.Equal(names.Length, ledger.PendingCount);
            Assert.All(submissions, s => Assert.False(s.IsCompleted));
        }
        var refusal = await Assert.ThrowsAsync<LedgerException>(() => submissions[2]);
        Assert.Equal(LedgerError.BadNonce, refusal.Code);
        var receipts = await Task.WhenAll(submissions.Where((_, i) => i != 2));
        // One block for the four that landed, in the order they arrived.
        Assert.All(receipts, r => Assert.Equal(start + 1, r.BlockHeight));
        Assert.Equal([0, 1, 2, 3], receipts.Select(r => r.Index));
        var block = (await ledger.GetBlockAsync(start + 1, ct))!;
        Assert.Equal(receipts.Select(r => r.Id), block.TransactionIds);
        Assert.Equal(start + 1, (await ledger.GetStatusAsync(ct)).Height);
        Assert.Equal(Tokens.Whole(4), await ledger.GetBalanceAsync(c["sink"], ct) - c.Genesis.Allocations.Single(a => a.Address == c["sink"]).Balance);
        Assert.Equal(0UL, await ledger.GetNonceAsync(c["c"], ct));
        Assert.True((await EmbeddedLedger.VerifyAsync(DbPath, ct)).Ok);
    }

    [Fact]
    public async Task A_submission_cancelled_while_it_waits_for_a_block_never_lands()
    {
        var ct = TestContext.Current.CancellationToken;
        var c = new TestChain("alice", "bob");
        await using var ledger = await EmbeddedLedger.OpenAsync(DbPath, c.Genesis, cancellationToken: ct);
        var start = (await ledger.GetStatusAsync(ct)).Height;
        SignedTransaction Transfer(string from, string to) =>
            c.KeyOf(from).SignTransaction(new Transfer { From = c[from], Nonce = 0, To = c[to], Amount = Tokens.Whole(1) }, TestChain.ChainId) with { ChainId = TestChain.ChainId };
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task<TxReceipt> cancelled, kept;
        using (await ledger.HoldAsync(ct))
        {
            cancelled = ledger.SubmitAsync(Transfer("alice", "bob"), cancel.Token);
            kept = ledger.SubmitAsync(Transfer("bob", "alice"), ct);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
            Assert.Equal(1, ledger.PendingCount);
        }
        var receipt = await kept;
        Assert.Equal(start + 1, receipt.BlockHeight);
        Assert.Equal(1, (await ledger.GetBlockAsync(start + 1, ct))!.TxCount);
        Assert.Equal(0UL, await ledger.GetNonceAsync(c["alice"], ct));
        Assert.Equal(1UL, await ledger.GetNonceAsync(c["bob"], ct));
    }
}
