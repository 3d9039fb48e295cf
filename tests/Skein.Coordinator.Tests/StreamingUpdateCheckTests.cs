using Skein.Coordinator.Blobs;
using Skein.Core;

namespace Skein.Coordinator.Tests;

/// <summary>The check made while an update arrives must give the verdict (and words) of the check of the whole file.</summary>
public sealed class StreamingUpdateCheckTests
{
    private static readonly ParameterLayout Layout = new([
        new ParameterSpec("fc1.weight", [30, 40]),
        new ParameterSpec("fc1.bias", [30]),
        new ParameterSpec("fc2.weight", [2, 30]),
    ]);

    private static byte[] Valid(int seed)
    {
        var random = new Random(seed);
        var flat = new float[Layout.TotalCount];
        for (var i = 0; i < flat.Length; i++)
        {
            flat[i] = (float)(random.NextDouble() - 0.5);
        }
        return Layout.ToSafeTensors(flat);
    }

    /// <summary>Null when accepted, else the reason.</summary>
    private static string? Whole(byte[] bytes)
    {
        try
        {
            SafeTensorsValidator.ValidateUpdate(bytes, Layout);
            return null;
        }
        catch (UpdateRejectedException ex)
        {
            return ex.Reason;
        }
    }

    /// <summary>Null when accepted, else the reason; fed in chunks of random sizes (1 byte up to 4 KB).</summary>
    private static string? Streamed(byte[] bytes, Random random)
    {
        var check = new StreamingUpdateCheck(Layout, bytes.Length);
        try
        {
            for (var offset = 0; offset < bytes.Length;)
            {
                var length = Math.Min(bytes.Length - offset, random.Next(4) == 0 ? random.Next(1, 8) : random.Next(1, 4096));
                check.Feed(bytes.AsSpan(offset, length));
                offset += length;
            }
            return check.Covered ? null : "not covered";
        }
        catch (UpdateRejectedException ex)
        {
            return ex.Reason;
        }
    }

    [Fact]
    public void A_valid_update_is_covered_whatever_the_chunking()
    {
        var bytes = Valid(1);
        for (var seed = 0; seed < 50; seed++)
        {
            Assert.Null(Streamed(bytes, new Random(seed)));
        }
        // One chunk of everything, and one byte at a time.
        var whole = new StreamingUpdateCheck(Layout, bytes.Length);
        whole.Feed(bytes);
        Assert.True(whole.Covered);
        var bytewise = new StreamingUpdateCheck(Layout, bytes.Length);
        foreach (var b in bytes)
        {
            Assert.False(bytewise.Covered);
            bytewise.Feed([b]);
        }
        Assert.True(bytewise.Covered);
    }

    [Fact]
    public void A_partial_feed_is_not_covered()
    {
        var bytes = Valid(2);
        var check = new StreamingUpdateCheck(Layout, bytes.Length);
        check.Feed(bytes.AsSpan(0, bytes.Length - 3));
        Assert.False(check.Covered);
    }

    [Theory]
    [InlineData(float.NaN, 0)]
    [InlineData(float.PositiveInfinity, 1234)]
    [InlineData(float.NegativeInfinity, 1289)]
    public void A_non_finite_value_is_refused_with_the_words_of_the_whole_file_check(float bad, int index)
    {
        var bytes = Valid(3);
        var flat = SafeTensorsValidator.ReadUpdate(bytes, Layout);
        flat[index] = bad;
        bytes = Layout.ToSafeTensors(flat);
        var expected = Whole(bytes);
        Assert.NotNull(expected);
        Assert.Contains("non-finite", expected);
        for (var seed = 0; seed < 20; seed++)
        {
            Assert.Equal(expected, Streamed(bytes, new Random(seed)));
        }
    }

    [Fact]
    public void Random_damage_gets_the_same_verdict_and_reason_as_the_whole_file_check()
    {
        var random = new Random(42);
        var refused = 0;
        for (var i = 0; i < 3000; i++)
        {
            var bytes = Valid(i % 7);
            switch (random.Next(5))
            {
                case 0: // flip bytes anywhere
                    for (var k = random.Next(1, 4); k > 0; k--)
                    {
                        bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
                    }
                    break;
                case 1: // flip bytes in the header, where the structure is
                    var headerEnd = 8 + (int)BitConverter.ToUInt64(bytes, 0);
                    bytes[random.Next(Math.Min(bytes.Length, headerEnd))] ^= (byte)random.Next(1, 256);
                    break;
                case 2: // truncate
                    bytes = bytes[..random.Next(bytes.Length)];
                    break;
                case 3: // a NaN pattern at a random aligned or unaligned place in the data
                    var at = random.Next(8 + (int)BitConverter.ToUInt64(bytes, 0), bytes.Length - 4);
                    BitConverter.GetBytes(float.NaN).CopyTo(bytes, at);
                    break;
                default: // extra bytes at the end
                    bytes = [.. bytes, .. new byte[random.Next(1, 9)]];
                    break;
            }
            var expected = Whole(bytes);
            refused += expected is null ? 0 : 1;
            Assert.Equal(expected, Streamed(bytes, new Random(i)));
        }
        // The damage must mostly matter, or the comparison says little.
        Assert.InRange(refused, 1500, 3000);
    }
}
