using System.Runtime.Versioning;
using Microsoft.Playwright;

namespace Skein.Console.Tests;

/// <summary>The market and deploy pages in a real browser: a deploy from the gallery reaches a running lease on a local provider, live.</summary>
[SupportedOSPlatform("linux")]
public sealed class DeployBrowserTests(ConsoleNetwork network) : IClassFixture<ConsoleNetwork>, IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private string? _why;

    public async ValueTask InitializeAsync() => (_playwright, _browser, _why) = await BrowserSetup.LaunchAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }

    [Fact]
    public async Task A_deploy_from_the_gallery_reaches_a_running_lease_on_a_local_provider()
    {
        if (_browser is null)
        {
            Assert.Skip($"no browser for the console tests: {_why}");
        }
        var console = await network.StartConsoleAsync(ConsoleNetwork.Key("tenant"));
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);

        await page.GotoAsync(console.Uri + "deploy");
        await BrowserSetup.AxeAsync(page);
        await BrowserSetup.ShotAsync(page, "deploy");
        await page.ClickAsync("a[href='deploy/skein-trainer']");
        Assert.EndsWith("/deploy/skein-trainer", page.Url, StringComparison.Ordinal);
        await BrowserSetup.AxeAsync(page);
        await BrowserSetup.ShotAsync(page, "deploy-form");

        await page.FillAsync("#set-SKEIN_COORDINATOR", "http://127.0.0.1:9/");
        await page.FillAsync("#set-SKEIN_TASK", network.TaskId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.FillAsync("#set-SKEIN_STAKE", "20");
        await page.FillAsync("#set-SKEIN_DATA", "data");
        await page.FillAsync("#cpu", "1");
        await page.FillAsync("#memory", "1Gi");
        await page.FillAsync("#price", "1000");
        await page.FillAsync("#deposit", "5");
        await page.ClickAsync("#deploy-form button[type=submit]");
        await page.WaitForURLAsync("**/deploy/jobs/**");
        await page.WaitForSelectorAsync("body[data-live-connected]", new PageWaitForSelectorOptions { Timeout = 10_000 });

        // The job page follows the deploy by itself (server-sent events), with no reload.
        await page.EvaluateAsync("() => { window.__skeinMarker = 7; }");
        // Bounded generously: the provider starts a node process, which takes a minute when the whole suite shares two cores.
        await page.WaitForSelectorAsync("#job-state:is([data-state=running], [data-state=failed], [data-state='no bid'])", new PageWaitForSelectorOptions { Timeout = 180_000 });
        Assert.True(await page.GetAttributeAsync("#job-state", "data-state") == "running", await page.InnerTextAsync("main"));
        Assert.Equal(7, await page.EvaluateAsync<int>("() => window.__skeinMarker"));
        Assert.Contains(ConsoleNetwork.Key("cheap").Address.ToString(), await page.InnerTextAsync("main"));
        await BrowserSetup.AxeAsync(page);
        await BrowserSetup.ShotAsync(page, "deploy-job");

        await page.GotoAsync(console.Uri + "market");
        Assert.Contains(ConsoleNetwork.Key("tenant").Address.ToString()[..6], await page.InnerTextAsync("main"));
        await BrowserSetup.AxeAsync(page);
        await BrowserSetup.ShotAsync(page, "market");
        Assert.Empty(errors);
    }
}
