using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Skein.Cli.Ledger;
using Skein.Console;
using Skein.Console.Hosting;
using Skein.Ledger.Crypto;
using Skein.Market.Templates;

namespace Skein.Cli;

/// <summary>`skein console`: the web interface over a coordinator and a market, on loopback, until Ctrl+C.</summary>
public static partial class ConsoleCommand
{
    public const int DefaultPort = 5180;

    public static Command Build()
    {
        var command = new Command("console", "Serve Skein Console, the web interface: tasks, rounds, accounts, market, deploy, create and stake (binds 127.0.0.1)");
        var coordinator = new Option<string?>("--coordinator") { Description = "The coordinator's JSON API: the `api` URL it prints (default: $SKEIN_COORDINATOR)", HelpName = "url" };
        var market = new Option<string?>("--market") { Description = "The market's URL (default: the coordinator's API, which serves it)", HelpName = "url" };
        var key = new Option<string?>("--key") { Description = "The key the console acts with: a key name or a key file (its password is asked here, never in the browser)", HelpName = "name|file" };
        var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = $"Port (0: any free port)", DefaultValueFactory = _ => DefaultPort };
        var readOnly = new Option<bool>("--read-only") { Description = "Show no action, even with --key" };
        var templates = new Option<string?>("--templates") { Description = "Folder of the deploy templates (default: the repository's templates/)", HelpName = "folder" };
        var ledger = new LedgerOptions();
        foreach (var o in new Option[] { coordinator, market, key, host, port, readOnly, templates, ledger.DataDir, ledger.KeysDir, ledger.PasswordEnv, ledger.Json })
        {
            command.Add(o);
        }
        command.SetAction((parse, ct) => LedgerOptions.GuardAsync(parse, async () =>
        {
            var options = new ConsoleOptions
            {
                Coordinator = Url(parse.GetValue(coordinator) ?? Environment.GetEnvironmentVariable("SKEIN_COORDINATOR")
                    ?? throw new ArgumentException("--coordinator: give the coordinator's API URL (the `api` line it prints), or set SKEIN_COORDINATOR"), "--coordinator"),
                Market = parse.GetValue(market) is { } m ? Url(m, "--market") : null,
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port) is var p and >= 0 and <= 65535 ? p : throw new ArgumentException($"--port: must be 0 to 65535, got {parse.GetValue(port)}"),
                ReadOnly = parse.GetValue(readOnly),
                TemplatesRoot = parse.GetValue(templates) ?? TemplateRenderer.FindTemplatesRoot(),
            };
            using var loggers = CliLogging.Create();
            using var signer = parse.GetValue(key) is { } name ? UnlockKey(parse, ledger, name) : null;
            if (Network.BindWarning.Console(options.Host, signer is not null && !options.ReadOnly) is { } warning)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(warning);
            }
            await using var console = await ConsoleHost.StartAsync(options, signer, loggers, ct);
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(ledger.Json))
            {
                await stdout.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    url = console.Uri.ToString(),
                    coordinator = options.Coordinator.ToString(),
                    market = (options.Market ?? options.Coordinator).ToString(),
                    address = signer?.Address.ToString(),
                    read_only = signer is null || options.ReadOnly,
                }, CliJson.Options));
            }
            else
            {
                await stdout.WriteLineAsync($"console {console.Uri}");
                var mode = signer is null || options.ReadOnly ? "read-only" : $"acting as {signer.Address}";
                var logger = loggers.CreateLogger("skein.console");
                LogServing(logger, mode, console.Uri);
            }
            await stdout.FlushAsync(ct);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "console: {Mode}; open {Url} in a browser, Ctrl+C to stop")]
    private static partial void LogServing(ILogger logger, string mode, Uri url);

    private static LedgerKey UnlockKey(ParseResult parse, LedgerOptions ledger, string name) => File.Exists(name)
        ? KeyFile.Decrypt(File.ReadAllText(name), ledger.Password(parse, name), Path.GetFileNameWithoutExtension(name))
        : ledger.Keys(parse).Unlock(name, ledger.Password(parse, name));

    private static Uri Url(string text, string field) =>
        Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ArgumentException($"{field}: must be an http(s) URL, got '{text}'");
}
