using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;

namespace Skein.Learning.Data;

/// <summary>Something that can put an npm package's tarball (.tgz) into a folder.</summary>
public interface IPackageTarballSource
{
    string Name { get; }

    /// <summary>Downloads <paramref name="package"/>@<paramref name="version"/> into <paramref name="folder"/>; returns the tarball's path.</summary>
    Task<string> DownloadAsync(string package, string version, string folder, CancellationToken cancellationToken);
}

/// <summary>Gets the tarball with `npm pack`, which honours the user's npm configuration (registry, proxy, cache).</summary>
public sealed class NpmPackSource(TimeSpan? timeout = null) : IPackageTarballSource
{
    public string Name => "npm pack";

    public async Task<string> DownloadAsync(string package, string version, string folder, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo("npm")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Few, short retries: when the registry is unreachable, the HTTPS source (or a clear error) should follow
        // within seconds, not after npm's default minute of back-off.
        foreach (var arg in new[] { "pack", $"{package}@{version}", "--json", "--pack-destination", folder,
                     "--fetch-retries=1", "--fetch-retry-mintimeout=1000", "--fetch-retry-maxtimeout=4000" })
        {
            psi.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("npm did not start");
        }
        catch (Win32Exception)
        {
            throw new InvalidOperationException("npm is not installed (not found on PATH)");
        }

        using (process)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout ?? TimeSpan.FromMinutes(5));
            var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
            var stderr = process.StandardError.ReadToEndAsync(cts.Token);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                cancellationToken.ThrowIfCancellationRequested();
                throw new TimeoutException("npm pack did not finish in time");
            }
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"npm pack exited with {process.ExitCode}: {Summarize(await stderr)}");
            }
            // npm names a scoped package's tarball @scope/name as scope-name-version.tgz.
            var fileName = ParseFileName(await stdout) ?? $"{package.TrimStart('@').Replace('/', '-')}-{version}.tgz";
            var path = Path.Combine(folder, fileName);
            return File.Exists(path) ? path : throw new FileNotFoundException($"npm pack reported {fileName} but it is not in {folder}");
        }
    }

    /// <summary>npm's first two distinct error lines (the code and the reason), without the log-file noise.</summary>
    private static string Summarize(string stderr)
    {
        var lines = stderr.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("npm error", StringComparison.Ordinal) || l.StartsWith("npm ERR!", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf(' ', 4) + 1)..].Trim())
            .Where(l => l.Length > 0 && !l.Contains("complete log", StringComparison.Ordinal))
            .Distinct()
            .Take(2)
            .ToArray();
        return lines.Length > 0 ? string.Join("; ", lines) : stderr.Trim();
    }

    private static string? ParseFileName(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind == JsonValueKind.Array && doc.RootElement.GetArrayLength() > 0
                && doc.RootElement[0].TryGetProperty("filename", out var f))
            {
                return f.GetString();
            }
        }
        catch (JsonException)
        {
            // older npm versions print only the file name; fall back to the conventional one
        }
        return null;
    }
}

/// <summary>
/// Downloads the tarball over HTTPS from an npm registry, for machines without npm. The registry is
/// $npm_config_registry, else the `registry=` line of ~/.npmrc, else npm's public default.
/// </summary>
public sealed class HttpsTarballSource(HttpClient http, string? registry = null) : IPackageTarballSource
{
    private const string PublicRegistry = "https://registry.npmjs.org/";

    public string Name => "HTTPS download";

    public string Registry { get; } = NormalizeRegistry(registry ?? ConfiguredRegistry());

    public async Task<string> DownloadAsync(string package, string version, string folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(package);
        // A scoped package's tarball drops the scope from its file name: @scope/name/-/name-1.0.0.tgz.
        var bareName = package[(package.LastIndexOf('/') + 1)..];
        var uri = new Uri($"{Registry}{package}/-/{bareName}-{version}.tgz");
        if (uri.Scheme != Uri.UriSchemeHttps && !uri.IsLoopback)
        {
            throw new InvalidOperationException($"refusing to download over {uri.Scheme}: the registry must use HTTPS");
        }
        var path = Path.Combine(folder, $"{bareName}-{version}.tgz");
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {uri} returned {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken))
        await using (var file = File.Create(path))
        {
            await body.CopyToAsync(file, cancellationToken);
        }
        return path;
    }

    private static string NormalizeRegistry(string r) => r.EndsWith('/') ? r : r + "/";

    private static string ConfiguredRegistry()
    {
        var env = Environment.GetEnvironmentVariable("npm_config_registry") ?? Environment.GetEnvironmentVariable("NPM_CONFIG_REGISTRY");
        if (!string.IsNullOrWhiteSpace(env))
        {
            return env.Trim();
        }
        var npmrc = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".npmrc");
        if (File.Exists(npmrc))
        {
            foreach (var line in File.ReadLines(npmrc))
            {
                var t = line.Trim();
                if (t.StartsWith("registry", StringComparison.Ordinal) && t.IndexOf('=', StringComparison.Ordinal) is var eq and > 0
                    && t[..eq].Trim() == "registry")
                {
                    return t[(eq + 1)..].Trim();
                }
            }
        }
        return PublicRegistry;
    }
}
