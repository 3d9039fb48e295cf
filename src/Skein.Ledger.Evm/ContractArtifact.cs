using System.Text.Json;

namespace Skein.Ledger.Evm;

/// <summary>A compiled contract as contracts/build.mjs writes it (ABI, init code, compiler): embedded in this assembly.</summary>
public sealed record ContractArtifact(string Contract, string Compiler, string Abi, string Bytecode)
{
    /// <summary>The artifact of <paramref name="contract"/> (e.g. "SkeinLedger") shipped with this build.</summary>
    public static ContractArtifact Load(string contract)
    {
        using var stream = typeof(ContractArtifact).Assembly.GetManifestResourceStream($"contracts/{contract}.json")
            ?? throw new InvalidOperationException($"contracts/out/{contract}.json is not in this build (run npm run build in contracts/)");
        using var json = JsonDocument.Parse(stream);
        var root = json.RootElement;
        return new ContractArtifact(root.GetProperty("contract").GetString()!, root.GetProperty("compiler").GetString()!,
            root.GetProperty("abi").GetRawText(), root.GetProperty("bytecode").GetString()!);
    }
}
