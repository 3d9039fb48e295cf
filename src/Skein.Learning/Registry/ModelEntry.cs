using Skein.Learning.Language;

namespace Skein.Learning.Registry;

/// <summary>How a registered model came to be.</summary>
public enum ModelKind
{
    /// <summary>Pretrained from scratch: a lineage's root.</summary>
    Base,

    /// <summary>A LoRA adapter over its parent (the base it was trained on).</summary>
    Adapter,

    /// <summary>A full model produced from its parent, e.g. a round's aggregate or a base with an adapter merged in.</summary>
    Merged,

    /// <summary>Brought in from outside (e.g. a converted checkpoint).</summary>
    Imported,
}

/// <summary>What a caller says about a model when registering it; the hash and the time are the registry's.</summary>
public sealed record ModelRegistration(string Architecture, TransformerConfig Config, ModelKind Kind)
{
    /// <summary>The model this one was made from: the base of an adapter, or the previous round's model; null for a root.</summary>
    public string? Parent { get; init; }

    public ulong? TaskId { get; init; }

    public uint? Round { get; init; }

    /// <summary>The trainers (addresses or names) whose accepted updates went into this model.</summary>
    public IReadOnlyList<string> Contributors { get; init; } = [];

    /// <summary>The corpus and training, in words (e.g. "moby-dick: first 95%, 300 steps, seed 42").</summary>
    public string Description { get; init; } = "";
}

/// <summary>A registered model: its content hash (SHA-256 of the safetensors bytes) and what is known of its making.</summary>
public sealed record ModelEntry(
    string Hash,
    string Architecture,
    TransformerConfig Config,
    ModelKind Kind,
    string? Parent,
    ulong? TaskId,
    uint? Round,
    IReadOnlyList<string> Contributors,
    string Description,
    DateTimeOffset CreatedAt,
    long SizeBytes);

/// <summary>The outcome of a registry operation that may be refused: the entry, or the reason it was refused.</summary>
public sealed record RegistryResult(ModelEntry? Entry, string? Error)
{
    public bool Ok => Entry is not null;

    public static RegistryResult Success(ModelEntry entry) => new(entry, null);

    public static RegistryResult Refused(string error) => new(null, error);
}
