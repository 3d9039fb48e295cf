namespace Skein.Market.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void The_market_assembly_loads() => Assert.Equal("Skein.Market", typeof(Skein.Market.Sdl.SdlPlaceholder).Assembly.GetName().Name);
}
