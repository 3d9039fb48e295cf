using Skein.Core;
using Skein.Learning.Language;

namespace Skein.Learning.Registry;

/// <summary>A registered model loaded for use, or why it could not be; the caller disposes the model.</summary>
public sealed record LoadedModel(TransformerModel? Model, string? Error)
{
    public bool Ok => Model is not null;
}

/// <summary>Builds runnable models from registry entries.</summary>
public static class RegistryModels
{
    /// <summary>
    /// The full model of <paramref name="entry"/> with its parameters from its verified file. Adapters are refused:
    /// they hold only the low-rank factors, merge them into their base first.
    /// </summary>
    public static LoadedModel Load(ModelRegistry registry, ModelEntry entry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Kind == ModelKind.Adapter)
        {
            return new LoadedModel(null, $"model {entry.Hash} is an adapter (of {entry.Parent}); only full models (base, merged, imported) can run alone");
        }
        var file = registry.ReadFile(entry.Hash);
        if (!file.Ok)
        {
            return new LoadedModel(null, file.Error);
        }
        float[] flat;
        try
        {
            flat = entry.Config.Layout().FromSafeTensors(SafeTensors.Parse(file.Bytes!));
        }
        catch (SafeTensorsFormatException ex)
        {
            return new LoadedModel(null, $"model file of {entry.Hash} does not fit {entry.Architecture}: {ex.Message}");
        }
        var model = TransformerModel.Create(entry.Config);
        model.Load(flat);
        return new LoadedModel(model, null);
    }
}
