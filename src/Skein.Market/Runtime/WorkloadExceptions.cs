namespace Skein.Market.Runtime;

/// <summary>The runtime does not know the workload id it was given: a caller bug, never retried.</summary>
public sealed class WorkloadNotFoundException : Exception
{
    public WorkloadNotFoundException()
    {
    }

    public WorkloadNotFoundException(string message) : base(message)
    {
    }

    public WorkloadNotFoundException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public static WorkloadNotFoundException For(string runtime, string id) => new($"the {runtime} runtime has no workload '{id}'");
}

/// <summary>The runtime itself is broken or unreachable; <see cref="IsTransient"/> says whether a retry can help.</summary>
public sealed class WorkloadRuntimeException : Exception
{
    public WorkloadRuntimeException()
    {
    }

    public WorkloadRuntimeException(string message) : base(message)
    {
    }

    public WorkloadRuntimeException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public WorkloadRuntimeException(string message, bool isTransient, Exception? innerException = null)
        : base(message, innerException) => IsTransient = isTransient;

    /// <summary>True when the same call may succeed later (an engine restarting, a socket not yet there).</summary>
    public bool IsTransient { get; }
}
