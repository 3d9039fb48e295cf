namespace Skein.Learning.Registry;

/// <summary>The lowercase names of model kinds as stored and printed ("base", "adapter", "merged", "imported").</summary>
public static class ModelRegistryNames
{
    public static string Kind(ModelKind kind) => ModelRegistry.KindName(kind);
}
