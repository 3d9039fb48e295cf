namespace Skein.Coordinator.Blobs;

/// <summary>An uploaded model update that the coordinator refuses; <see cref="Reason"/> says what is wrong with it.</summary>
public sealed class UpdateRejectedException(string reason) : Exception(reason)
{
    public string Reason => Message;
}
