using System.Globalization;

namespace Skein.Simulation.Attacks;

/// <summary>What a malicious client does instead of (or on top of) honest training.</summary>
public enum AttackKind
{
    /// <summary>Trains on flipped labels (class c becomes C-1-c) and sends the honest-looking result.</summary>
    LabelFlip,

    /// <summary>Trains honestly and sends -scale times its update.</summary>
    SignFlip,

    /// <summary>Does not train; sends Gaussian noise N(0, sigma^2) per coordinate.</summary>
    Gaussian,

    /// <summary>Model replacement (Bagdasaryan et al. 2020): trains on flipped labels and sends scale times the update.</summary>
    Scaled,

    /// <summary>Does not train; sends a zero update, or with <c>stale</c> the last observed change of the global model.</summary>
    FreeRider,
}

/// <summary>A simulated attack: the kind, the fraction of clients that are malicious, and its parameters.</summary>
public sealed record AttackOptions(AttackKind Kind, double Fraction)
{
    /// <summary>Multiplier of sign_flip (sends -scale x update) and scaled (sends scale x update).</summary>
    public double Scale { get; init; } = 4;

    /// <summary>Standard deviation of the gaussian attack's noise.</summary>
    public double Sigma { get; init; } = 1;

    /// <summary>For free riders: replay the last change of the global model instead of sending zeros.</summary>
    public bool Stale { get; init; }

    public static IReadOnlyList<string> Names { get; } = ["label_flip", "sign_flip", "gaussian", "scaled", "free_rider"];

    public string Name => Kind switch
    {
        AttackKind.LabelFlip => "label_flip",
        AttackKind.SignFlip => "sign_flip",
        AttackKind.Gaussian => "gaussian",
        AttackKind.Scaled => "scaled",
        AttackKind.FreeRider => "free_rider",
        _ => throw new InvalidOperationException(),
    };

    /// <summary>True when the attacker trains on relabelled data.</summary>
    public bool FlipsLabels => Kind is AttackKind.LabelFlip or AttackKind.Scaled;

    /// <summary>True when the attacker runs local training at all.</summary>
    public bool Trains => Kind is not (AttackKind.Gaussian or AttackKind.FreeRider);

    /// <summary>Builds from a config's type name and parameters; errors name the field and the rule.</summary>
    public static AttackOptions Parse(string type, double fraction, IReadOnlyDictionary<string, double>? parameters)
    {
        ArgumentNullException.ThrowIfNull(type);
        var kind = type.Trim().ToLowerInvariant() switch
        {
            "label_flip" => AttackKind.LabelFlip,
            "sign_flip" => AttackKind.SignFlip,
            "gaussian" => AttackKind.Gaussian,
            "scaled" => AttackKind.Scaled,
            "free_rider" => AttackKind.FreeRider,
            _ => throw new ArgumentException($"attack.type: must be one of {string.Join(", ", Names)}; got '{type}'"),
        };
        var options = new AttackOptions(kind, fraction);
        foreach (var (key, value) in parameters ?? new Dictionary<string, double>())
        {
            options = (kind, key) switch
            {
                (AttackKind.SignFlip or AttackKind.Scaled, "scale") => options with { Scale = value },
                (AttackKind.Gaussian, "sigma") => options with { Sigma = value },
                (AttackKind.FreeRider, "stale") => options with { Stale = value != 0 },
                _ => throw new ArgumentException($"attack.params.{key}: not a parameter of {options.Name}"),
            };
        }
        return options.Validate() is { } error ? throw new ArgumentException(error) : options;
    }

    public string? Validate()
    {
        if (!(Fraction >= 0 && Fraction < 1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"attack.fraction: must be in [0, 1), got {Fraction}");
        }
        if (!(Scale > 0) || double.IsInfinity(Scale))
        {
            return string.Create(CultureInfo.InvariantCulture, $"attack.params.scale: must be a finite number > 0, got {Scale}");
        }
        if (!(Sigma > 0) || double.IsInfinity(Sigma))
        {
            return string.Create(CultureInfo.InvariantCulture, $"attack.params.sigma: must be a finite number > 0, got {Sigma}");
        }
        return null;
    }

    public override string ToString() => Kind switch
    {
        AttackKind.SignFlip or AttackKind.Scaled => string.Create(CultureInfo.InvariantCulture, $"{Name} x{Scale} on {Fraction:P0} of clients"),
        AttackKind.Gaussian => string.Create(CultureInfo.InvariantCulture, $"{Name} sigma {Sigma} on {Fraction:P0} of clients"),
        AttackKind.FreeRider => string.Create(CultureInfo.InvariantCulture, $"{Name}{(Stale ? " (stale)" : " (zero)")} on {Fraction:P0} of clients"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Name} on {Fraction:P0} of clients"),
    };
}
