using Skein.Fuzz.Targets;

namespace Skein.Fuzz;

/// <summary>Every fuzz target by name; a target that holds resources (a temporary ledger, an in-memory server) is made when asked for.</summary>
public static class FuzzTargets
{
    private static readonly (string Name, Func<FuzzTarget> Create)[] All =
    [
        ("safetensors", SafeTensorsTargets.Reader),
        ("safetensors-update", SafeTensorsTargets.Update),
        ("taskspec", TaskSpecTarget.Create),
        ("sdl", SdlTarget.Create),
        ("transaction", LedgerTargets.Transaction),
        ("signature", LedgerTargets.Signature),
        ("genesis", LedgerTargets.Genesis),
        ("grpc", GrpcTarget.Create),
        ("http-api", HttpApiTarget.Create),
    ];

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(t => t.Name)];

    /// <summary>The target named <paramref name="name"/>; the caller disposes it.</summary>
    public static FuzzTarget Create(string name) =>
        All.FirstOrDefault(t => t.Name == name).Create?.Invoke() ?? throw new ArgumentException($"no fuzz target '{name}' (known: {string.Join(", ", Names)})", nameof(name));
}
