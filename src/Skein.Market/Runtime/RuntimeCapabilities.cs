namespace Skein.Market.Runtime;

/// <summary>Whether one kind of limit is enforced, and how, or why not.</summary>
public sealed record Capability(bool Enforced, string Detail)
{
    public static Capability Yes(string how) => new(true, how);

    public static Capability No(string why) => new(false, why);
}

/// <summary>What a runtime can enforce on this machine; a bid engine reads it before promising resources.</summary>
public sealed record RuntimeCapabilities(
    string Runtime,
    bool Available,
    string? UnavailableReason,
    Capability CpuAffinity,
    Capability MemoryLimit,
    Capability CpuQuota,
    Capability Gpu,
    IReadOnlyList<string> Notes)
{
    /// <summary>A runtime that cannot run anything here, with the reason repeated for every limit.</summary>
    public static RuntimeCapabilities Unavailable(string runtime, string reason) =>
        new(runtime, false, reason, Capability.No(reason), Capability.No(reason), Capability.No(reason), Capability.No(reason), []);
}
