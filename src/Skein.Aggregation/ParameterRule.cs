using System.Globalization;

namespace Skein.Aggregation;

/// <summary>
/// One range rule for a strategy parameter, shared by the constructors (which name their C# parameter) and by
/// the strategy factory (which names the spec field), so both state the same rule in the same words.
/// </summary>
internal sealed class ParameterRule(string requirement, Func<double, bool> accepts)
{
    /// <summary>Rates, step sizes and norms: positive, and still positive and finite once stored as float32.</summary>
    public static readonly ParameterRule Positive = new(
        "must be a finite number > 0 (as float32)", v => v > 0 && float.IsFinite((float)v) && (float)v > 0);

    /// <summary>Noise multipliers: zero (no noise) or more.</summary>
    public static readonly ParameterRule NonNegative = new("must be a finite number >= 0", v => v >= 0 && double.IsFinite(v));

    /// <summary>Decay factors such as momentum, beta1 and beta2.</summary>
    public static readonly ParameterRule UnitInterval = new("must be in [0, 1)", v => v >= 0 && v < 1);

    /// <summary>The fraction trimmed from each side by the trimmed mean.</summary>
    public static readonly ParameterRule TrimFraction = new("must be in [0, 0.5)", v => v >= 0 && v < 0.5);

    // The cap keeps 4f + 3 and similar bounds far from int overflow.
    public static readonly ParameterRule ByzantineCount = new(
        "must be an integer in [0, 100000]", v => v >= 0 && v <= 100_000 && Math.Floor(v) == v);

    public static readonly ParameterRule PositiveCount = new(
        "must be an integer in [1, 1000000]", v => v >= 1 && v <= 1_000_000 && Math.Floor(v) == v);

    public string Requirement => requirement;

    public bool Accepts(double value) => accepts(value);

    /// <summary>Returns <paramref name="value"/> if it passes; otherwise throws naming the constructor parameter.</summary>
    public double Check(double value, string paramName) =>
        accepts(value) ? value : throw new ArgumentOutOfRangeException(paramName, $"{paramName} {requirement}, got {Format(value)}");

    public int CheckInteger(int value, string paramName) => (int)Check(value, paramName);

    /// <summary>The error for a task spec's field, e.g. <c>strategy.parameters.beta: must be in [0, 0.5), got 0.7</c>.</summary>
    public ArgumentException SpecError(string fieldPath, double value, string paramName) =>
        new($"{fieldPath}: {requirement}, got {Format(value)}", paramName);

    public static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
