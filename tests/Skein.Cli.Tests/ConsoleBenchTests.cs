using System.Text.Json;
using Skein.Console.Bench;
using Skein.Ledger.Storage;

namespace Skein.Cli.Tests;

/// <summary>`skein bench console` and the long history it serves: every page answers, and the history is a real, reproducible chain.</summary>
public sealed class ConsoleBenchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-console-bench-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Bench_console_times_every_page_of_a_small_history_and_prints_one_json_object()
    {
        var (code, stdout, err) = await CliRun.Run("bench", "console", "--rounds", "20", "--nodes", "12", "--requests", "3", "--json");

        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(20, root.GetProperty("rounds").GetInt32());
        Assert.Equal(12, root.GetProperty("nodes").GetInt32());
        Assert.True(root.GetProperty("transactions").GetInt64() > 20 * 12, stdout);
        Assert.True(root.GetProperty("generate_seconds").GetDouble() > 0);
        Assert.True(root.GetProperty("rejected_updates").GetInt32() > 0, "the history has no rejected update");
        Assert.True(root.GetProperty("slashes").GetInt32() > 0, "the history has no slash");
        var pages = root.GetProperty("pages").EnumerateArray().ToArray();
        var skipped = root.GetProperty("skipped").EnumerateArray().Select(s => s.GetString()).ToArray();
        string[] expected = ["/", "/tasks", "/tasks/{id}", "/tasks/{id}?page=10", "/tasks/{id}/rounds/{r}", "/tasks/{id}/leaderboard",
            "/tasks/{id}/leaderboard?sort=agreement", "/accounts/{trainer}", "/accounts/{validator}"];
        Assert.Equal(expected, pages.Select(p => p.GetProperty("page").GetString()).Where(p => p != "/market"));
        Assert.All(skipped, s => Assert.Equal("/market", s));
        foreach (var page in pages)
        {
            var name = page.GetProperty("page").GetString();
            Assert.True(page.GetProperty("status").GetInt32() == 200, $"{name} answered {page.GetProperty("status")}");
            Assert.True(page.GetProperty("bytes").GetInt64() > 0, $"{name} sent no bytes");
            foreach (var field in new[] { "p50_ms", "p95_ms", "warm_p50_ms" })
            {
                Assert.True(page.GetProperty(field).GetDouble() > 0, $"{name}: {field}");
            }
        }
        Assert.True(root.GetProperty("host").GetProperty("cores").GetInt32() > 0);
        // Progress goes to stderr, so stdout is exactly the JSON object.
        Assert.Contains("generating 20 rounds", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_console_names_the_option_it_refuses()
    {
        var (code, stdout, err) = await CliRun.Run("bench", "console", "--rounds", "1", "--json");
        Assert.Equal(ExitCodes.InvalidOptions, code);
        Assert.Contains("--rounds: must be >= 2", err, StringComparison.Ordinal);
        Assert.Empty(stdout);
    }

    [Fact]
    public async Task The_long_history_is_a_verifiable_chain_that_one_seed_reproduces_block_for_block()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = new LongHistoryOptions { Rounds = 5, Nodes = 8, Seed = 7 };
        var a = await LongHistoryGenerator.GenerateAsync(Path.Combine(_dir, "a"), options, cancellationToken: ct);
        var b = await LongHistoryGenerator.GenerateAsync(Path.Combine(_dir, "b"), options, cancellationToken: ct);

        // Verification replays every block from genesis and checks every signature, nonce and state root.
        var first = await EmbeddedLedger.VerifyAsync(Path.Combine(_dir, "a", "ledger.db"), ct);
        var second = await EmbeddedLedger.VerifyAsync(Path.Combine(_dir, "b", "ledger.db"), ct);
        Assert.True(first.Ok, first.Reason);
        Assert.Equal((ulong)a.Transactions, first.TransactionsChecked);
        Assert.Equal(first.HeadStateRoot, second.HeadStateRoot);
        Assert.Equal(a with { Seconds = 0 }, b with { Seconds = 0 });
        Assert.Equal((5, 3), (a.Trainers, a.Validators));
        var other = await LongHistoryGenerator.GenerateAsync(Path.Combine(_dir, "c"), options with { Seed = 8 }, cancellationToken: ct);
        Assert.NotEqual(a.Coordinator, other.Coordinator);
    }
}
