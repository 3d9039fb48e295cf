using System.Text.Json;
using System.Text.Json.Serialization;

namespace Skein.Core.Json;

/// <summary>
/// The one rule for numbers in Skein's JSON output: a NaN or an infinity is written as <c>null</c>, never thrown on,
/// so that a diverged run still yields a valid document (docs/json.md). Where the reason matters, the writer adds a
/// sibling field (e.g. <c>diverged_round</c>); reading <c>null</c> back into a non-nullable number gives NaN.
/// </summary>
public static class FiniteJson
{
    /// <summary>Adds the non-finite-as-null converters for <see cref="double"/> and <see cref="float"/> (and so their nullable forms).</summary>
    public static JsonSerializerOptions WithNonFiniteAsNull(this JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Converters.Add(new DoubleConverter());
        options.Converters.Add(new SingleConverter());
        return options;
    }

    /// <summary>Writes a double as a number when finite and as null otherwise.</summary>
    private sealed class DoubleConverter : JsonConverter<double>
    {
        public override bool HandleNull => true;

        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value))
            {
                writer.WriteNumberValue(value);
            }
            else
            {
                writer.WriteNullValue();
            }
        }
    }

    /// <summary>Writes a float as a number when finite and as null otherwise.</summary>
    private sealed class SingleConverter : JsonConverter<float>
    {
        public override bool HandleNull => true;

        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? float.NaN : reader.GetSingle();

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
        {
            if (float.IsFinite(value))
            {
                writer.WriteNumberValue(value);
            }
            else
            {
                writer.WriteNullValue();
            }
        }
    }
}
