using Skein.Core;

namespace Skein.Fuzz;

/// <summary>What a parser did with one input: took it, or refused it with its documented error.</summary>
public enum FuzzOutcome
{
    Accepted,
    Refused,
}

/// <summary>
/// One parser under fuzzing: its name, the valid inputs mutation starts from, the tokens worth inserting, an optional
/// generator of structured inputs, and the call that feeds it bytes. The call returns <see cref="FuzzOutcome.Refused"/>
/// only for the parser's own documented error; any other exception it lets through is a crash.
/// </summary>
public sealed class FuzzTarget : IDisposable
{
    public required string Name { get; init; }

    public required string Description { get; init; }

    /// <summary>Valid (or nearly valid) inputs; most inputs are mutations of these.</summary>
    public required IReadOnlyList<byte[]> Seeds { get; init; }

    /// <summary>Tokens of the format (keys, keywords, punctuation) that mutations insert.</summary>
    public IReadOnlyList<byte[]> Dictionary { get; init; } = [];

    /// <summary>Structured inputs (CsCheck generators), or null when mutation alone is used.</summary>
    public Func<DeterministicRandom, byte[]>? Generate { get; init; }

    /// <summary>Feeds one input to the real parser and classifies what it did.</summary>
    public required Func<byte[], FuzzOutcome> Run { get; init; }

    /// <summary>Inputs longer than this are cut: the parsers' own size limits are tested by their unit tests.</summary>
    public int MaxInputBytes { get; init; } = 64 << 10;

    /// <summary>What the target holds for its whole run (a temporary ledger, an in-memory server).</summary>
    public IDisposable? Resources { get; init; }

    public void Dispose() => Resources?.Dispose();
}
