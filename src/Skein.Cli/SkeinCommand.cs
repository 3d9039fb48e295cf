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
        root.Add(Ledger.KeyCommands.Build());
        root.Add(Network.NetworkCommands.Coordinator());
        root.Add(Network.NetworkCommands.Node());
        root.Add(Network.NetworkCommands.Verify());
        root.Add(Ledger.LedgerCommands.Build());
        root.Add(Ledger.TaskCommands.Build());
        foreach (var command in Ledger.AccountCommands.Build())
        {
            root.Add(command);
        }
        return root;
    }

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var config = new InvocationConfiguration { Output = output, Error = error };
        return Build().Parse(args).InvokeAsync(config, cancellationToken);
    }
}
