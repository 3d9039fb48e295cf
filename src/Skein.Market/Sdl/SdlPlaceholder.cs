namespace Skein.Market.Sdl;

/// <summary>Placeholder until the SDL parser lands.</summary>
public static class SdlPlaceholder;
