using Microsoft.Playwright;

namespace Skein.Console.Tests;

/// <summary>
/// Refreshes the screenshots in docs/console from a running console, typically a demo's:
/// <c>./skein demo --hold</c>, then <c>SKEIN_DOCS_SCREENSHOTS_URL=http://127.0.0.1:5180/ dotnet test tests/Skein.Console.Tests --filter-method *Docs*</c>.
/// Skipped unless that variable is set. The demo's console is read-only, so the forms (create-task, stake, deploy-form,
/// deploy-job) are copied from the screenshots <see cref="ConsolePageTests"/> and <see cref="DeployBrowserTests"/> save.
/// </summary>
public sealed class DocsScreenshots
{
    [Fact]
    public async Task Docs_screenshots_of_every_page()
    {
        if (Environment.GetEnvironmentVariable("SKEIN_DOCS_SCREENSHOTS_URL") is not { Length: > 0 } url)
        {
            Assert.Skip("set SKEIN_DOCS_SCREENSHOTS_URL to a running console to refresh docs/console/*.png");
            return;
        }
        var ct = TestContext.Current.CancellationToken;
        var (chromium, why) = await BrowserSetup.FindOrInstallAsync(ct);
        Assert.True(chromium is not null, why);
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Skein.slnx")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("not inside the repository");
        }
        var docs = Path.Combine(root, "docs", "console");
        Directory.CreateDirectory(docs);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true, Args = BrowserSetup.Args });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var baseUrl = url.EndsWith('/') ? url : url + "/";
        var pages = new List<(string Name, string Path)> { ("overview", ""), ("task", "tasks/1"), ("round", "tasks/1/rounds/2"), ("leaderboard", "tasks/1/leaderboard"),
            ("market", "market"), ("deploy", "deploy") };
        await page.GotoAsync(baseUrl + "tasks/1/leaderboard");
        // The account worth showing is the one the validators caught (the demo labels it), else the leaderboard's first.
        var caught = page.Locator("#board tbody tr").Filter(new LocatorFilterOptions { Has = page.Locator(".tag.bad") }).Locator("a.addr");
        if (await (await caught.CountAsync() > 0 ? caught : page.Locator("#board tbody tr a.addr")).First.GetAttributeAsync("href") is { } account)
        {
            pages.Add(("account", account));
        }
        foreach (var (name, path) in pages)
        {
            var response = await page.GotoAsync(baseUrl + path);
            if (response is { Ok: true })
            {
                await page.WaitForTimeoutAsync(500);
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(docs, name + ".png"), FullPage = name is not ("task" or "account") });
            }
        }
    }
}
