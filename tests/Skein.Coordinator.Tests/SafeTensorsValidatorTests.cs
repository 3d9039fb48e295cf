using Skein.Coordinator.Blobs;
using Skein.Core;

namespace Skein.Coordinator.Tests;

public sealed class SafeTensorsValidatorTests
{
    private static readonly ParameterLayout Layout = new([
        new ParameterSpec("fc1.weight", [3, 4]),
        new ParameterSpec("fc1.bias", [3]),
        new ParameterSpec("fc2.weight", [2, 3]),
    ]);

    private static float[] Values() => Enumerable.Range(0, Layout.TotalCount).Select(i => (i - 10) * 0.25f).ToArray();

    private static string Rejection(byte[] bytes) =>
        Assert.Throws<UpdateRejectedException>(() => SafeTensorsValidator.ValidateUpdate(bytes, Layout)).Reason;

    [Fact]
    public void A_valid_update_passes_and_reads_back()
    {
        var flat = Values();
        var bytes = Layout.ToSafeTensors(flat);
        SafeTensorsValidator.ValidateUpdate(bytes, Layout);
        Assert.Equal(flat, SafeTensorsValidator.ReadUpdate(bytes, Layout));
    }

    [Fact]
    public void Bytes_that_are_not_safetensors_are_rejected_with_the_parse_error()
    {
        var reason = Rejection([1, 2, 3]);
        Assert.StartsWith("not a safetensors file:", reason);
        Assert.Contains("truncated", reason);

        var json = Rejection("\x08\0\0\0\0\0\0\0[1,2,3] "u8.ToArray());
        Assert.StartsWith("not a safetensors file:", json);
        Assert.Contains("'{'", json);
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var entries = Entries(Values()).Where(e => e.Name != "fc1.bias").ToArray();
        var reason = Rejection(SafeTensors.Serialize(entries));
        Assert.Contains("'fc1.bias'", reason);
        Assert.Contains("missing", reason);
    }

    [Fact]
    public void An_extra_tensor_is_named()
    {
        var entries = Entries(Values()).Append(TensorEntry.FromFloats("backdoor", [1], [1f])).ToArray();
        var reason = Rejection(SafeTensors.Serialize(entries));
        Assert.Contains("'backdoor'", reason);
        Assert.Contains("not a parameter", reason);
    }

    [Fact]
    public void A_wrong_shape_names_the_tensor_and_both_shapes()
    {
        var entries = Entries(Values());
        entries[0] = TensorEntry.FromFloats("fc1.weight", [4, 3], Values().AsSpan(0, 12));
        var reason = Rejection(SafeTensors.Serialize(entries));
        Assert.Contains("'fc1.weight'", reason);
        Assert.Contains("[4, 3]", reason);
        Assert.Contains("[3, 4]", reason);
    }

    [Fact]
    public void A_wrong_dtype_names_the_tensor_and_both_types()
    {
        var entries = Entries(Values());
        entries[1] = new TensorEntry("fc1.bias", TensorDType.F64, [3], new byte[3 * 8]);
        var reason = Rejection(SafeTensors.Serialize(entries));
        Assert.Contains("'fc1.bias'", reason);
        Assert.Contains("F64", reason);
        Assert.Contains("F32", reason);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "Infinity")]
    [InlineData(float.NegativeInfinity, "-Infinity")]
    public void A_non_finite_value_names_the_tensor_and_its_first_index(float bad, string shown)
    {
        var flat = Values();
        var fc2 = Layout.OffsetOf(2);
        flat[fc2 + 4] = bad;      // fc2.weight[1, 1]
        flat[fc2 + 5] = float.NaN; // a later one is not the one reported
        var reason = Rejection(Layout.ToSafeTensors(flat));
        Assert.Equal($"tensor 'fc2.weight': non-finite value {shown} at element 4 (index [1, 1])", reason);
    }

    private static TensorEntry[] Entries(float[] flat) =>
        Layout.Parameters.Select((p, i) => TensorEntry.FromFloats(p.Name, p.Shape, flat.AsSpan(Layout.OffsetOf(i), (int)p.ElementCount))).ToArray();
}
