using System.CommandLine;

namespace Skein.Cli;

/// <summary>Builds the `skein` command tree and runs it.</summary>
public static class SkeinCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Skein: decentralized federated training. Start with `skein demo`.");
        root.Add(DemoCommand.Build());
        root.Add(SimulateCommand.Build());
        root.Add(DataCommand.Build());
        root.Add(BenchCommand.Build());
        root.Add(ModelCommands.Build());
        root.Add(Ledger.KeyCommands.Build());
        root.Add(Network.NetworkCommands.Coordinator());
        root.Add(Network.NetworkCommands.Node());
        root.Add(Network.NetworkCommands.Verify());
        root.Add(Network.InitCommand.Build());
        root.Add(Network.TlsCommands.Build());
        root.Add(Ledger.LedgerCommands.Build());
        root.Add(Ledger.TaskCommands.Build());
        root.Add(Ledger.LivenessCommands.Round());
        root.Add(Ledger.GovCommands.Build());
        foreach (var command in Ledger.AccountCommands.Build())
        {
            root.Add(command);
        }
        root.Add(ConsoleCommand.Build());
        root.Add(ChainCommand.Build());
        root.Add(Market.SdlCommands.Build());
        root.Add(Market.DeployCommands.Build());
        root.Add(Market.ProviderCommand.Build());
        root.Add(Market.RunFromEnvCommand.Build());
        return root;
    }

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        InvokeAsync(Build(), args, output, error, cancellationToken);

    /// <summary>
    /// Runs a command tree with Skein's last line of defence: an exception that no rule turned into a clear error
    /// is a bug, reported in one line with exit code <see cref="ExitCodes.InternalError"/>, never as a stack trace
    /// (System.CommandLine's default handler prints one); <c>SKEIN_DEBUG=1</c> adds the trace for a bug report.
    /// </summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(error);
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return await root.Parse(args).InvokeAsync(config, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or SIGTERM: System.CommandLine cancels the action's own token, not the one passed in here.
            await error.WriteLineAsync("skein: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex)
        {
            await error.WriteLineAsync($"skein: internal error: {ex.GetType().Name}: {ex.Message}");
            await error.WriteLineAsync(Environment.GetEnvironmentVariable("SKEIN_DEBUG") is "1" or "true"
                ? ex.ToString()
                : "skein: this is a bug; please report it with the command line (SKEIN_DEBUG=1 prints the stack trace)");
            return ExitCodes.InternalError;
        }
    }
}
