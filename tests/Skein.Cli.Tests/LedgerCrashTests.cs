using System.Diagnostics;
using Skein.Ledger.Storage;

namespace Skein.Cli.Tests;

public sealed class LedgerCrashTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-crash-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private Process StartStress(string db, int blocks)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "skein.dll"), "ledger", "stress", "--ledger", db, "--blocks", blocks.ToString(System.Globalization.CultureInfo.InvariantCulture), "--block-size", "200" })
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi) ?? throw new InvalidOperationException("could not start the ledger stress process");
    }

    [Fact]
    public async Task A_ledger_killed_while_producing_blocks_loses_no_committed_block_and_no_half_transaction()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = Path.Combine(_dir, "chain.db");
        ulong lastReported = 0;
        using (var child = StartStress(db, 1_000_000))
        {
            // Read its commit reports; kill it (SIGKILL) once it has committed a few blocks, in the middle of its work.
            for (var line = 0; line < 5_000; line++)
            {
                var text = await child.StandardOutput.ReadLineAsync(ct);
                if (text is null)
                {
                    Assert.Fail("the stress process ended early: " + await child.StandardError.ReadToEndAsync(ct));
                }
                lastReported = ulong.Parse(text.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                if (lastReported >= 8)
                {
                    break;
                }
            }
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync(ct);
        }
        Assert.True(lastReported >= 8);

        var report = await EmbeddedLedger.VerifyAsync(db, ct);
        Assert.True(report.Ok, report.Reason);
        Assert.True(report.BlocksChecked - 1 >= lastReported, $"committed block {lastReported} was reported, the chain has {report.BlocksChecked - 1}");
        // Every block is whole: 200 transfers each.
        Assert.Equal((report.BlocksChecked - 1) * 200, report.TransactionsChecked);

        // A restarted process resumes at the last block and goes on.
        using (var again = StartStress(db, 2))
        {
            var output = await again.StandardOutput.ReadToEndAsync(ct);
            await again.WaitForExitAsync(ct);
            Assert.True(again.ExitCode == 0, await again.StandardError.ReadToEndAsync(ct));
            Assert.Contains($"committed {report.BlocksChecked} 200", output, StringComparison.Ordinal);
        }
        var final = await EmbeddedLedger.VerifyAsync(db, ct);
        Assert.True(final.Ok, final.Reason);
        Assert.Equal(report.BlocksChecked + 2, final.BlocksChecked);
    }
}
