namespace Skein.Market.Akash;

/// <summary>A Console API key; it prints as <c>***</c> and is only ever written into the <c>x-api-key</c> header.</summary>
public sealed class AkashApiKey
{
    /// <summary>Where <c>skein deploy --akash-console</c> reads the key from; never from a command-line argument, which other users can see.</summary>
    public const string EnvironmentVariable = "AKASH_CONSOLE_API_KEY";

    public AkashApiKey(string value)
    {
        // A line break would let the key inject headers; keys are "ac.sk.<env>.<hex>" (api-key-generator.service.ts).
        if (string.IsNullOrWhiteSpace(value) || value.Any(char.IsControl))
        {
            throw new ArgumentException("An Akash Console API key must be non-empty and on one line.", nameof(value));
        }

        Value = value.Trim();
    }

    internal string Value { get; }

    /// <summary>The key from <see cref="EnvironmentVariable"/>, or null when it is unset or empty.</summary>
    public static AkashApiKey? FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(value) ? null : new AkashApiKey(value);
    }

    /// <summary>The text with every occurrence of the key replaced, for anything that came back from the server.</summary>
    internal string Redact(string text) => text.Replace(Value, "***", StringComparison.Ordinal);

    public override string ToString() => "AkashApiKey(***)";
}
