using Skein.Ledger.State;

namespace Skein.Ledger.Tests.Conformance;

/// <summary>The conformance suite on the embedded ledger (SQLite in a temporary folder).</summary>
public sealed class EmbeddedLedgerConformanceTests : LedgerConformanceTests, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-conformance-").FullName;

    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000));

    protected override async Task<ILedger> CreateAsync(Genesis genesis) =>
        await Skein.Ledger.Storage.EmbeddedLedger.OpenAsync(Path.Combine(_dir, $"{Guid.NewGuid():N}.db"), genesis with { Timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds() },
            _time, TestContext.Current.CancellationToken);

    protected override async Task AdvanceAsync(ILedger ledger, TimeSpan by)
    {
        _time.Advance(by);
        await ((Skein.Ledger.Storage.EmbeddedLedger)ledger).ProduceEmptyBlockAsync(TestContext.Current.CancellationToken);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
