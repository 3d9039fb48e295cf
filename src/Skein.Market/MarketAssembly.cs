namespace Skein.Market;

/// <summary>Where the market's parts live: <c>Sdl/</c>, <c>Akash/</c>, <c>Runtime/</c>, <c>Provider/</c>, <c>Deploy/</c>, <c>Api/</c>.</summary>
internal static class MarketAssembly;
