using Skein.Market.Akash;

namespace Skein.Market.Tests.Akash;

/// <summary>The shared set-up of the Akash tests: a fresh fake Console API, a manual clock, and a client pointed at both.</summary>
public abstract class FakeConsoleTests : IAsyncLifetime
{
    internal ManualClock Clock { get; } = new(AkashTestClient.Start);

    internal FakeConsoleApi Fake { get; private set; } = null!;

    internal AkashConsoleClient Client { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Fake = await FakeConsoleApi.StartAsync(Ct);
        Client = AkashTestClient.Create(Fake, Clock);
    }

    public async ValueTask DisposeAsync()
    {
        await Fake.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
