namespace Skein.Fuzz;

/// <summary>A target accepted an input but what it returned breaks the parser's own promise (a round trip, a length): a bug like a crash.</summary>
public sealed class FuzzInvariantException(string message) : Exception(message);
