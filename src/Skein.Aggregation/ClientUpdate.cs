namespace Skein.Aggregation;

/// <summary>
/// One client's contribution to a round: the change it made to the global parameters (its trained parameters
/// minus the global ones, as a flat float32 vector) and the number of samples it trained on.
/// </summary>
public readonly record struct ClientUpdate(ReadOnlyMemory<float> Delta, long SampleCount);
