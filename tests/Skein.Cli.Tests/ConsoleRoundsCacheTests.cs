using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Console;
using Skein.Console.Bench;
using Skein.Console.Data;
using Skein.Console.Hosting;
using Skein.Coordinator;
using Skein.Coordinator.Api;
using Skein.Coordinator.Hosting;

namespace Skein.Cli.Tests;

/// <summary>
/// The console keeps settled rounds and asks the coordinator only for those that can still change (the API's
/// <c>?from=</c>), yet shows exactly what the full list says, metrics that arrive late included.
/// </summary>
public sealed class ConsoleRoundsCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-console-rounds-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Rounds_from_a_round_on_are_the_tail_of_every_round_and_the_task_says_how_far_metrics_go()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = new LongHistoryOptions { Rounds = 6, Nodes = 8 };
        var history = await LongHistoryGenerator.GenerateAsync(_dir, options, cancellationToken: ct);
        using var key = options.Key("coordinator");
        await using var host = await StartCoordinatorAsync(key);
        using var api = new CoordinatorApiClient(host.ApiUri);

        var all = await api.GetRoundSummariesAsync(history.TaskId, ct);
        Assert.Equal(7, all.Count);
        Assert.Equal("training", all[^1].Phase);
        Assert.Equal(Json(all.Skip(3)), Json(await api.GetRoundSummariesAsync(history.TaskId, 4, ct)));
        Assert.Empty(await api.GetRoundSummariesAsync(history.TaskId, 8, ct));
        Assert.Equal(Json(all), Json(await api.GetRoundSummariesAsync(history.TaskId, 0, ct)));
        Assert.Equal(6u, (await api.GetTaskAsync(history.TaskId, ct)).MetricsThrough);
    }

    [Fact]
    public async Task The_console_shows_the_full_list_of_rounds_block_after_block_and_a_metric_that_arrives_after_its_round_settled()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = new LongHistoryOptions { Rounds = 6, Nodes = 8 };
        var history = await LongHistoryGenerator.GenerateAsync(_dir, options, cancellationToken: ct);
        // The coordinator has not tested the newest model yet.
        using (var db = new SqliteConnection($"Data Source={Path.Combine(_dir, "coordinator.db")};Pooling=False"))
        {
            db.Open();
            using var delete = db.CreateCommand();
            delete.CommandText = "DELETE FROM metrics WHERE round = 6";
            Assert.Equal(1, delete.ExecuteNonQuery());
        }
        using var key = options.Key("coordinator");
        await using var host = await StartCoordinatorAsync(key);
        await using var console = await ConsoleHost.StartAsync(
            new ConsoleOptions { Coordinator = host.ApiUri, ReadOnly = true, VerifyRounds = false, Poll = TimeSpan.FromDays(1) }, null, NullLoggerFactory.Instance, ct);
        var feed = console.Services.GetRequiredService<ConsoleFeed>();
        var data = console.Services.GetRequiredService<ConsoleData>();
        using var api = new CoordinatorApiClient(host.ApiUri);
        // The feed's own first look runs at start; the test drives every later one, so wait until it has the task's rounds.
        for (var i = 0; i < 200 && !data.Unverified().Any(); i++)
        {
            await Task.Delay(50, ct);
        }

        async Task<IReadOnlyList<ApiRoundSummary>> NextBlockAsync()
        {
            await ((Skein.Ledger.Storage.EmbeddedLedger)host.Context.Ledger).ProduceEmptyBlockAsync(ct);
            await feed.PollAsync(ct);
            var shown = await data.RoundsAsync(history.TaskId, ct);
            Assert.Equal(Json(await api.GetRoundSummariesAsync(history.TaskId, ct)), Json(shown));
            return shown;
        }

        Assert.Null((await NextBlockAsync())[5].Accuracy);
        await NextBlockAsync();
        host.Context.Index.PutMetric(history.TaskId, 6, 0.875, 0.25);
        Assert.Equal(0.875, (await NextBlockAsync())[5].Accuracy);
        Assert.Equal(7, (await NextBlockAsync()).Count);
    }

    private Task<CoordinatorHost> StartCoordinatorAsync(Skein.Ledger.Crypto.LedgerKey key)
    {
        // Deadlines of a day: the open round stays open, and only the test moves the chain.
        var day = TimeSpan.FromDays(1);
        return CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = _dir, Timings = new RoundTimings(day, day, day) }, key, null,
            NullLoggerFactory.Instance, TestContext.Current.CancellationToken);
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, ApiJson.Options);
}
