using System.CommandLine;

namespace Skein.Cli.Market;

/// <summary>
/// `skein run-from-env`: the container entry point (templates/image/Dockerfile) and what a provider's process runtime
/// runs for the Skein image. It reads the SKEIN_* variables a template sets and runs `skein node` or `skein
/// coordinator` with them; the key arrives as the content of a key file, and it and its password are never printed.
/// </summary>
public static class RunFromEnvCommand
{
    public static Command Build()
    {
        var command = new Command("run-from-env", "Run a node or coordinator from SKEIN_* environment variables (the entry point of the Skein image and of templates)");
        command.SetAction(async (parse, ct) =>
        {
            string[] args;
            try
            {
                args = Arguments(Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                    .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal));
            }
            catch (ArgumentException ex)
            {
                return SimulationSession.Fail(parse.InvocationConfiguration.Error, ExitCodes.InvalidOptions, [ex.Message]);
            }
            var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
            await using var status = await StatusPage.StartAsync(env, ct);
            return await SkeinCommand.Build().Parse(args).InvokeAsync(new InvocationConfiguration
            {
                Output = parse.InvocationConfiguration.Output,
                Error = parse.InvocationConfiguration.Error,
                EnableDefaultExceptionHandler = false,
            }, ct);
        });
        return command;
    }

    /// <summary>The `skein` command line the variables describe; every problem names its variable and rule.</summary>
    public static string[] Arguments(IReadOnlyDictionary<string, string> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        string Need(string name) => env.TryGetValue(name, out var v) && v.Length > 0 ? v : throw new ArgumentException($"{name}: must be set");
        string? Maybe(string name) => env.TryGetValue(name, out var v) && v.Length > 0 ? v : null;
        if (Maybe("SKEIN_KEY_PASSWORD") is null)
        {
            throw new ArgumentException("SKEIN_KEY_PASSWORD: must be set (the password of the key in SKEIN_KEY_JSON or SKEIN_KEY_FILE)");
        }
        var data = Need("SKEIN_DATA");
        var state = Maybe("SKEIN_STATE") ?? Path.Combine(data, "state");
        var keyFile = Maybe("SKEIN_KEY_FILE");
        if (keyFile is null)
        {
            var json = Maybe("SKEIN_KEY_JSON") ?? throw new ArgumentException("SKEIN_KEY_JSON: must be set to the content of the node's key file (or SKEIN_KEY_FILE to its path)");
            Directory.CreateDirectory(state);
            keyFile = Path.Combine(state, "key.json");
            // The key file is written for the node's own use only: readable by this user alone.
            File.WriteAllText(keyFile, json);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        var role = Need("SKEIN_ROLE");
        switch (role)
        {
            case "trainer" or "validator":
                {
                    var coordinator = Need("SKEIN_COORDINATOR");
                    if (!Uri.TryCreate(coordinator, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                    {
                        throw new ArgumentException($"SKEIN_COORDINATOR: must be an http(s) URL, got '{coordinator}'");
                    }
                    var args = new List<string> { "node", "--key-file", keyFile, "--password-env", "SKEIN_KEY_PASSWORD", "--coordinator", coordinator, "--data", data, "--state", state };
                    if (Maybe("SKEIN_STAKE") is { } stake)
                    {
                        args.AddRange([role == "trainer" ? "--trainer-stake" : "--validator-stake", stake]);
                    }
                    if (Maybe("SKEIN_TASK") is { } task)
                    {
                        args.AddRange(task.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).SelectMany(t =>
                            ulong.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)
                                ? new[] { "--task", t }
                                : throw new ArgumentException($"SKEIN_TASK: '{t}' is not a task id")));
                    }
                    if (Maybe("SKEIN_BEHAVIOUR") is { } behaviour)
                    {
                        args.AddRange(["--behaviour", behaviour]);
                    }
                    if (Maybe("SKEIN_TLS_PIN") is { } pin)
                    {
                        args.AddRange(["--tls-pin", pin]);
                    }
                    return [.. args];
                }
            case "coordinator":
                {
                    var args = new List<string> { "coordinator", "--key-file", keyFile, "--password-env", "SKEIN_KEY_PASSWORD", "--data-dir", data };
                    args.AddRange(["--host", Maybe("SKEIN_HOST") ?? "127.0.0.1"]);
                    if (Maybe("SKEIN_PORT") is { } port)
                    {
                        args.AddRange(["--port", port]);
                    }
                    if (Maybe("SKEIN_API_PORT") is { } apiPort)
                    {
                        args.AddRange(["--api-port", apiPort]);
                    }
                    if (Maybe("SKEIN_GENESIS_JSON") is { } genesis)
                    {
                        var file = Path.Combine(state, "genesis.json");
                        Directory.CreateDirectory(state);
                        File.WriteAllText(file, genesis);
                        args.AddRange(["--genesis", file]);
                    }
                    if (Maybe("SKEIN_TASK_JSON") is { } task)
                    {
                        var file = Path.Combine(state, "task.json");
                        Directory.CreateDirectory(state);
                        File.WriteAllText(file, task);
                        args.AddRange(["--task", file]);
                    }
                    return [.. args];
                }
            default:
                throw new ArgumentException($"SKEIN_ROLE: must be trainer, validator or coordinator, got '{role}'");
        }
    }
}
