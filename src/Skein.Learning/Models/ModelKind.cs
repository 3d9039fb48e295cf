namespace Skein.Learning.Models;

/// <summary>The models a task can name, as in McMahan et al. 2017.</summary>
public enum ModelKind
{
    /// <summary>Multinomial logistic regression, 784-10 (7,850 parameters).</summary>
    LogReg,

    /// <summary>The "2NN": MLP 784-200-200-10 with ReLU (199,210 parameters).</summary>
    Mlp2NN,

    /// <summary>The CNN: 5x5 conv 32, 2x2 max pool, 5x5 conv 64, 2x2 max pool, FC 512, ReLU, FC 10 (1,663,370 parameters).</summary>
    Cnn,
}

/// <summary>The names a user types for each <see cref="ModelKind"/>.</summary>
public static class ModelNames
{
    public static IReadOnlyList<string> All { get; } = ["logreg", "2nn", "cnn"];

    public static string ToName(this ModelKind kind) => kind switch
    {
        ModelKind.LogReg => "logreg",
        ModelKind.Mlp2NN => "2nn",
        ModelKind.Cnn => "cnn",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string? name, out ModelKind kind)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "logreg" or "logistic":
                kind = ModelKind.LogReg;
                return true;
            case "2nn" or "mlp":
                kind = ModelKind.Mlp2NN;
                return true;
            case "cnn":
                kind = ModelKind.Cnn;
                return true;
            default:
                kind = default;
                return false;
        }
    }
}
