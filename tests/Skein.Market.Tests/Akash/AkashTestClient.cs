using Skein.Market.Akash;

namespace Skein.Market.Tests.Akash;

/// <summary>A client pointed at the fake, with the fake's key and a clock whose delays return at once.</summary>
internal static class AkashTestClient
{
    public static readonly DateTimeOffset Start = new(2026, 5, 22, 8, 0, 0, TimeSpan.Zero);

    public static AkashConsoleClient Create(FakeConsoleApi fake, ManualClock clock, string apiKey = FakeConsoleApi.ApiKey, int maxRetries = 3) =>
        new(new HttpClient(), new AkashConsoleOptions(new AkashApiKey(apiKey), fake.BaseUrl)
        {
            MaxRetries = maxRetries,
            TimeProvider = clock,
            Delay = clock.Delay,
        });
}
