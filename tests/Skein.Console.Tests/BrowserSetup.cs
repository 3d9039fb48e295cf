using System.Diagnostics;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Skein.Console.Tests;

/// <summary>
/// Finds Debian's chromium (or installs it with apt when the tests run as root, as on CI), since Playwright's own
/// browser download is not reachable here; says why when neither is possible, and the browser tests skip with that.
/// </summary>
internal static class BrowserSetup
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static (string? Path, string? Why)? _found;

    /// <summary>Flags for a headless chromium in a container: no sandbox (root), no GPU, no first-run or background traffic.</summary>
    public static IReadOnlyList<string> Args { get; } = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-dev-shm-usage"];

    public static async Task<(string? Path, string? Why)> FindOrInstallAsync(CancellationToken ct)
    {
        await Gate.WaitAsync(ct);
        try
        {
            return _found ??= await LocateAsync(ct);
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<(string? Path, string? Why)> LocateAsync(CancellationToken ct)
    {
        if (Environment.GetEnvironmentVariable("SKEIN_CHROMIUM") is { Length: > 0 } given)
        {
            return File.Exists(given) ? (given, null) : (null, $"SKEIN_CHROMIUM names '{given}', which does not exist");
        }
        if (Find() is { } path)
        {
            return (path, null);
        }
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/apt-get"))
        {
            return (null, "no chromium found and no apt-get to install it; install Chromium or set SKEIN_CHROMIUM to its executable");
        }
        if (Environment.UserName != "root")
        {
            return (null, "no chromium found, and installing it needs root: run `sudo apt-get install chromium` (or set SKEIN_CHROMIUM)");
        }
        var log = new List<string>();
        // The package lists of a fresh image are often empty: update them once if the first try cannot find the package.
        if (!await AptAsync(["install", "-y", "--no-install-recommends", "chromium"], log, ct))
        {
            await AptAsync(["update"], log, ct);
            await AptAsync(["install", "-y", "--no-install-recommends", "chromium"], log, ct);
        }
        return Find() is { } installed
            ? (installed, null)
            : (null, "apt-get could not install chromium: " + string.Join(" | ", log.TakeLast(3)));
    }

    /// <summary>A headless chromium, or why there is none.</summary>
    public static async Task<(IPlaywright? Playwright, IBrowser? Browser, string? Why)> LaunchAsync(CancellationToken ct)
    {
        var (chromium, why) = await FindOrInstallAsync(ct);
        if (chromium is null)
        {
            return (null, null, why);
        }
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true, Args = Args });
        return (playwright, browser, null);
    }

    /// <summary>Fails on any serious or critical axe-core violation in the page.</summary>
    public static async Task AxeAsync(IPage page)
    {
        var result = await page.RunAxe();
        var bad = result.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id} ({v.Impact}): {v.Help} e.g. {v.Nodes.FirstOrDefault()?.Html}").ToArray();
        Assert.True(bad.Length == 0, $"{page.Url}: {string.Join("\n", bad)}");
    }

    /// <summary>Where the tests' screenshots go (a test artifact next to the test binaries).</summary>
    public static string Screenshots { get; } = System.IO.Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;

    public static Task ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    private static string? Find() => Candidates.FirstOrDefault(File.Exists);

    private static async Task<bool> AptAsync(string[] args, List<string> log, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("apt-get") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        log.Add($"apt-get {string.Join(' ', args)}: exit {process.ExitCode} {(await stderr).Trim()}");
        _ = await stdout;
        return process.ExitCode == 0;
    }
}
