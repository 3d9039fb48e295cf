namespace Skein.Cli;

/// <summary>Process exit codes of the skein command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command line did not parse (System.CommandLine's own code).</summary>
    public const int ParseError = 1;

    /// <summary>Options parsed but broke a rule (a value out of range, a missing file).</summary>
    public const int InvalidOptions = 2;

    /// <summary>Data could not be obtained or failed its integrity check.</summary>
    public const int DataUnavailable = 3;

    /// <summary>A verification (ledger replay, round recomputation) found a mismatch.</summary>
    public const int VerificationFailed = 4;

    /// <summary>A run of several failed (the others' results are still in the output, which names the failed one).</summary>
    public const int RunFailed = 5;

    /// <summary>A deployment got no acceptable bid; the output says why, per provider.</summary>
    public const int NoBid = 6;

    /// <summary>A bug: an exception no rule anticipated (its message is printed; SKEIN_DEBUG=1 adds the stack trace).</summary>
    public const int InternalError = 70;

    public const int Cancelled = 130;
}
