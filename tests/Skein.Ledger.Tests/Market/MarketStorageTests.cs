using Microsoft.Extensions.Time.Testing;
using Skein.Ledger.Market;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Tests.Rules;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Market;

/// <summary>The market in the embedded ledger: time in block headers, replay after a restart, and blocks when nobody transacts.</summary>
public sealed class MarketStorageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-market-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private Genesis GenesisOf(TestChain c) => c.Genesis with { Timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds() };

    private static Task Send(EmbeddedLedger ledger, TestChain c, string who, Func<Address, ulong, Transaction> build) =>
        ledger.SubmitAsync(c.KeyOf(who).SignTransaction(build(c[who], ledger.GetNonceAsync(c[who]).Result), ledger.ChainId) with { ChainId = ledger.ChainId });

    [Fact]
    public async Task A_restarted_ledger_replays_the_market_to_the_same_state_root_and_keeps_paying_by_time()
    {
        var c = new TestChain("tenant", "p");
        var path = Path.Combine(_dir, "chain.db");
        var interval = TimeSpan.FromMilliseconds(c.Genesis.Params.MarketRules.BlockIntervalMs);
        var uact = c.Genesis.Params.MarketRules.BaseUnitsPerDenomUnit;
        Hash32 root;
        await using (var ledger = await EmbeddedLedger.OpenAsync(path, GenesisOf(c), _time, Ct))
        {
            await Send(ledger, c, "p", (f, n) => new RegisterProvider { From = f, Nonce = n, HostUri = "http://127.0.0.1:9/", Attributes = "{}", Capacity = MarketChain.CapacityJson });
            await Send(ledger, c, "tenant", (f, n) => new CreateDeployment { From = f, Nonce = n, Dseq = 1, ManifestHash = MarketChain.Sample(1), Groups = GroupSpec.ToCanonicalJson([MarketChain.Group()]), Deposit = Tokens.Whole(1) });
            await Send(ledger, c, "p", (f, n) => new CreateBid { From = f, Nonce = n, Owner = c["tenant"], Dseq = 1, Gseq = 1, Oseq = 1, Price = 100 * uact });
            await Send(ledger, c, "tenant", (f, n) => new CreateLease { From = f, Nonce = n, Owner = f, Dseq = 1, Gseq = 1, Oseq = 1, Provider = c["p"] });
            _time.Advance(interval * 3);
            await ledger.ProduceEmptyBlockAsync(Ct);
            root = (await ledger.GetStatusAsync(Ct)).StateRoot;
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await using (var reopened = await EmbeddedLedger.OpenAsync(path, null, _time, Ct))
        {
            Assert.Equal(root, (await reopened.GetStatusAsync(Ct)).StateRoot);
            var lease = Assert.Single(await reopened.ListLeasesAsync(new LeaseQuery(), Ct));
            Assert.Equal(300 * uact, lease.Paid);
            _time.Advance(interval * 2);
            await reopened.ProduceEmptyBlockAsync(Ct);
            lease = Assert.Single(await reopened.ListLeasesAsync(new LeaseQuery(), Ct));
            Assert.Equal(500 * uact, lease.Paid);
        }
        Assert.True((await EmbeddedLedger.VerifyAsync(path, Ct)).Ok);
    }

    [Fact]
    public async Task The_block_producer_seals_an_empty_block_each_interval_nobody_transacts()
    {
        var c = new TestChain("tenant");
        await using var ledger = await EmbeddedLedger.OpenAsync(Path.Combine(_dir, "idle.db"), GenesisOf(c), _time, Ct);
        var interval = TimeSpan.FromMilliseconds(c.Genesis.Params.MarketRules.BlockIntervalMs);
        await using var producer = BlockProducer.Start(ledger);
        for (var expected = 1UL; expected <= 3; expected++)
        {
            _time.Advance(interval);
            // The producer runs on its own task: wait (bounded) until it has seen the new time.
            for (var i = 0; i < 500 && (await ledger.GetStatusAsync(Ct)).Height < expected; i++)
            {
                await Task.Delay(10, Ct);
            }
            Assert.Equal(expected, (await ledger.GetStatusAsync(Ct)).Height);
        }
        var status = await ledger.GetMarketStatusAsync(Ct);
        Assert.Equal(3UL, status.MarketHeight);
        Assert.Null(producer.LastError);
    }

    [Fact]
    public async Task A_block_whose_time_goes_backwards_fails_verification()
    {
        var c = new TestChain("tenant", "bob");
        var path = Path.Combine(_dir, "time.db");
        await using (var ledger = await EmbeddedLedger.OpenAsync(path, GenesisOf(c), _time, Ct))
        {
            _time.Advance(TimeSpan.FromSeconds(10));
            await Send(ledger, c, "tenant", (f, n) => new Transfer { From = f, Nonce = n, To = c["bob"], Amount = 1 });
            _time.Advance(TimeSpan.FromSeconds(10));
            await Send(ledger, c, "tenant", (f, n) => new Transfer { From = f, Nonce = n, To = c["bob"], Amount = 1 });
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}"))
        {
            db.Open();
            // Rewrite block 2 with an earlier time and a matching hash, so only the time rule can catch it.
            using var read = db.CreateCommand();
            read.CommandText = "SELECT previous_hash, tx_root, state_root, tx_count FROM blocks WHERE height = 2";
            using var r = read.ExecuteReader();
            Assert.True(r.Read());
            var header = new BlockHeader(2, new Hash32((byte[])r[0]), 5, new Hash32((byte[])r[1]), new Hash32((byte[])r[2]), r.GetInt32(3));
            r.Close();
            using var write = db.CreateCommand();
            write.CommandText = "UPDATE blocks SET timestamp = 5, hash = $hash WHERE height = 2";
            write.Parameters.AddWithValue("$hash", header.Hash.Bytes.ToArray());
            write.ExecuteNonQuery();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var report = await EmbeddedLedger.VerifyAsync(path, Ct);
        Assert.False(report.Ok);
        Assert.Equal(2UL, report.FirstBadBlock);
        Assert.Contains("is before the previous block's", report.Reason, StringComparison.Ordinal);
    }
}
