using Skein.Market.Sdl;

namespace Skein.Market.Tests.Sdl;

public sealed class SdlUnitsTests
{
    [Theory]
    [InlineData("1k", 1_000ul)]
    [InlineData("1Ki", 1_024ul)]
    [InlineData("512Mi", 536_870_912ul)]
    [InlineData("1.5G", 1_500_000_000ul)]
    [InlineData("2Ti", 2_199_023_255_552ul)]
    [InlineData("1048576", 1_048_576ul)]
    public void Sizes_parse_with_Akash_suffixes(string text, ulong bytes)
    {
        Assert.True(SdlUnits.TryParseSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("1K")]
    [InlineData("1GB")]
    [InlineData("1gi")]
    [InlineData("-1Gi")]
    [InlineData("Gi")]
    [InlineData("1 Gi")]
    [InlineData("1e3")]
    public void Sizes_with_unknown_suffixes_or_signs_are_refused(string text) => Assert.False(SdlUnits.TryParseSize(text, out _));

    [Theory]
    [InlineData("1", 1000ul)]
    [InlineData("0.5", 500ul)]
    [InlineData("500m", 500ul)]
    [InlineData("0.001", 1ul)]
    public void Cpu_parses_as_cores_or_millicores(string text, ulong millis)
    {
        Assert.True(SdlUnits.TryParseCpu(text, out var parsed));
        Assert.Equal(millis, parsed);
    }

    [Theory]
    [InlineData("0.0005")]
    [InlineData("1.5m")]
    [InlineData("2k")]
    [InlineData("abc")]
    public void Cpu_finer_than_a_millicore_or_not_a_number_is_refused(string text) => Assert.False(SdlUnits.TryParseCpu(text, out _));

    [Theory]
    [InlineData("1000.000", "1000")]
    [InlineData("0.50", "0.5")]
    [InlineData("007", "7")]
    [InlineData("0.000000000000000001", "0.000000000000000001")]
    public void Amounts_are_normalised_without_insignificant_zeros(string text, string normal)
    {
        Assert.True(SdlUnits.TryParseAmount(text, out var amount));
        Assert.Equal(normal, SdlUnits.Normalize(amount));
    }

    [Fact]
    public void Amounts_with_more_than_18_decimals_are_refused() => Assert.False(SdlUnits.TryParseAmount("0.0000000000000000001", out _));

    [Theory]
    [InlineData("akash1365yvmc4s7awdyj3n2sav7xfx76adc6dnmlx63", true)]
    [InlineData("akash13265twfqejnma6cc93rw5dxk4cldyz2zyy8cdm", true)]
    [InlineData("akash1365yvmc4s7awdyj3n2sav7xfx76adc6dnmlx64", false)]
    [InlineData("AKASH1365YVMC4S7AWDYJ3N2SAV7XFX76ADC6DNMLX63", false)]
    [InlineData("cosmos1365yvmc4s7awdyj3n2sav7xfx76adc6dnmlx63", false)]
    [InlineData("0x52908400098527886E0F7030069857D2E4169EE7", true)]
    [InlineData("0x52908400098527886E0F7030069857D2E4169EE", false)]
    [InlineData("52908400098527886E0F7030069857D2E4169EE7", false)]
    public void Auditor_addresses_are_akash_bech32_with_a_valid_checksum_or_0x_hex(string address, bool valid) =>
        Assert.Equal(valid, AuditorAddress.IsValid(address));
}
