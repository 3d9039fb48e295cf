using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Skein.Cli;

/// <summary>Logging for CLI commands: plain "skein: message" lines on stderr, so stdout stays clean for --json.</summary>
public static class CliLogging
{
    public static ILoggerFactory Create(bool verbose = false) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information);
        // ASP.NET Core logs every request at Information: a provider polled twice a second would bury what matters.
        builder.AddFilter("Microsoft", verbose ? LogLevel.Information : LogLevel.Warning);
        builder.AddConsole(o =>
        {
            o.FormatterName = PlainFormatter.FormatterName;
            o.LogToStandardErrorThreshold = LogLevel.Trace;
        });
        builder.AddConsoleFormatter<PlainFormatter, ConsoleFormatterOptions>();
    });

    /// <summary>One line per message, prefixed with the program name and, above Information, the level.</summary>
    private sealed class PlainFormatter() : ConsoleFormatter(FormatterName)
    {
        public const string FormatterName = "skein-plain";

        public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
        {
            var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
            var level = logEntry.LogLevel switch
            {
                LogLevel.Warning => "warning: ",
                LogLevel.Error or LogLevel.Critical => "error: ",
                _ => "",
            };
            textWriter.WriteLine($"skein: {level}{message}");
        }
    }
}
