using System.Buffers.Binary;
using System.Text;
using CsCheck;
using Skein.Core;

namespace Skein.Core.Tests;

public sealed class SafeTensorsTests
{
    private static readonly ParameterLayout Layout = new([
        new ParameterSpec("fc1.weight", [3, 4]),
        new ParameterSpec("fc1.bias", [3]),
        new ParameterSpec("fc2.weight", [2, 3]),
    ]);

    private static float[] Values(int n, float scale = 0.5f) => Enumerable.Range(0, n).Select(i => (i - (n / 2)) * scale).ToArray();

    [Fact]
    public void Round_trip_keeps_names_shapes_order_and_bits()
    {
        var flat = Values(Layout.TotalCount);
        flat[3] = float.Epsilon;
        flat[4] = -0.0f;
        var bytes = Layout.ToSafeTensors(flat, new Dictionary<string, string> { ["format"] = "pt" });

        var doc = SafeTensors.Parse(bytes);
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight"], doc.Tensors.Select(t => t.Name));
        Assert.Equal([3L, 4L], doc["fc1.weight"].Shape);
        Assert.Equal("pt", doc.Metadata["format"]);
        var back = Layout.FromSafeTensors(doc);
        Assert.Equal(flat.Select(BitConverter.SingleToInt32Bits), back.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Serialization_is_deterministic_and_header_is_8_byte_aligned()
    {
        var flat = Values(Layout.TotalCount);
        var a = Layout.ToSafeTensors(flat);
        var b = Layout.ToSafeTensors(flat.ToArray());
        Assert.Equal(a, b);
        Assert.Equal(Hashing.Sha256Hex(a), Hashing.Sha256Hex(b));
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(a);
        Assert.Equal(0UL, headerLength % 8);
        Assert.Equal(8 + (long)headerLength + (Layout.TotalCount * 4), a.Length);
    }

    [Fact]
    public void Random_documents_round_trip()
    {
        var gen = Gen.Int[1, 4].Array[1, 3].Array[1, 5];
        gen.Sample(shapes =>
        {
            var specs = shapes.Select((s, i) => new ParameterSpec($"t{i}", s.Select(d => (long)d).ToArray())).ToArray();
            var layout = new ParameterLayout(specs);
            var flat = Values(layout.TotalCount, 0.25f);
            return layout.FromSafeTensors(SafeTensors.Parse(layout.ToSafeTensors(flat))).SequenceEqual(flat);
        });
    }

    [Fact]
    public void Truncated_data_is_refused_with_the_tensor_named()
    {
        var bytes = Layout.ToSafeTensors(Values(Layout.TotalCount));
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Parse(bytes.AsSpan(0, bytes.Length - 5)));
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
        Assert.Contains("fc2.weight", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_header_is_refused()
    {
        var bytes = Layout.ToSafeTensors(Values(Layout.TotalCount));
        Assert.Contains("truncated", Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Parse(bytes.AsSpan(0, 20))).Message, StringComparison.Ordinal);
        Assert.Contains("truncated", Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Parse(bytes.AsSpan(0, 3))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Huge_header_claim_is_refused_before_allocation()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        Assert.Contains("exceeds", Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Parse(bytes)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "needs 8")]
    [InlineData("{\"a\":{\"dtype\":\"X9\",\"shape\":[1],\"data_offsets\":[0,4]}}", "dtype")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "shape")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "begin at 4, expected 0")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "data_offsets")]
    [InlineData("[1,2]", "start with '{'")]
    [InlineData("{\"a\":", "not valid JSON")]
    public void Malformed_headers_are_refused_with_the_rule(string header, string expected)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Parse(bytes.AsSpan(0, 8 + h.Length + 4)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_shape_missing_and_extra_tensors_are_named()
    {
        var other = new ParameterLayout([new ParameterSpec("fc1.weight", [4, 3]), new ParameterSpec("fc1.bias", [3]), new ParameterSpec("fc2.weight", [2, 3])]);
        var doc = SafeTensors.Parse(other.ToSafeTensors(Values(other.TotalCount)));
        var ex = Assert.Throws<SafeTensorsFormatException>(() => Layout.FromSafeTensors(doc));
        Assert.Contains("'fc1.weight': shape [4, 3], expected [3, 4]", ex.Message, StringComparison.Ordinal);

        var missing = new ParameterLayout([new ParameterSpec("fc1.weight", [3, 4]), new ParameterSpec("fc1.bias", [3])]);
        ex = Assert.Throws<SafeTensorsFormatException>(() => Layout.FromSafeTensors(SafeTensors.Parse(missing.ToSafeTensors(Values(missing.TotalCount)))));
        Assert.Contains("'fc2.weight' is missing", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<SafeTensorsFormatException>(() => missing.FromSafeTensors(SafeTensors.Parse(Layout.ToSafeTensors(Values(Layout.TotalCount)))));
        Assert.Contains("'fc2.weight' is not a parameter", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Writer_refuses_repeated_names_and_wrong_lengths()
    {
        var t = TensorEntry.FromFloats("a", [2], [1f, 2f]);
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize([t, t]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize([new TensorEntry("b", TensorDType.F32, [3], new byte[8])]));
    }
}
