using System.Diagnostics;
using System.Text.Json;

namespace Skein.Ledger.Evm.Tests;

/// <summary>The artifacts checked in under contracts/out are what contracts/src compiles to with the pinned solc.</summary>
public sealed class ContractBuildTests
{
    [Fact]
    public async Task The_checked_in_bytecode_equals_a_fresh_build_of_the_sources_with_the_pinned_compiler()
    {
        var ct = TestContext.Current.CancellationToken;
        var contracts = Path.Combine(RepositoryRoot(), "contracts");
        if (!Directory.Exists(Path.Combine(contracts, "node_modules", "solc")))
        {
            var (install, installOutput) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], contracts, ct);
            Assert.True(install == 0, $"npm ci in contracts/ failed: {installOutput}");
        }
        var (code, output) = await RunAsync("node", ["build.mjs", "--check"], contracts, ct);
        Assert.True(code == 0, output);
        Assert.Contains("out/SkeinLedger.json matches a fresh build", output, StringComparison.Ordinal);

        // And the assembly embeds that same artifact.
        using var file = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(contracts, "out", "SkeinLedger.json"), ct));
        var embedded = ContractArtifact.Load("SkeinLedger");
        Assert.Equal(file.RootElement.GetProperty("bytecode").GetString(), embedded.Bytecode);
        Assert.StartsWith("solc 0.8.37", embedded.Compiler, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Skein.slnx")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("not inside the repository");
        }
        return dir;
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] args, string folder, CancellationToken ct)
    {
        var info = new ProcessStartInfo(file, args) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, await stdout + await stderr);
    }
}
