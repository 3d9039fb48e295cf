using Microsoft.Playwright;
using Skein.Ledger;
using Skein.Ledger.Transactions;

namespace Skein.Console.Tests;

/// <summary>The console in a real browser over a real network: pages, live updates, forms, read-only mode and accessibility.</summary>
public sealed class ConsolePageTests(TrainingNetwork net) : IClassFixture<TrainingNetwork>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Evil => TrainingNetwork.Key("evil").Address.ToString();

    private static string User => TrainingNetwork.Key("user").Address.ToString();

    private void RequireBrowser()
    {
        if (net.Browser is null)
        {
            Assert.Skip($"no browser for the console tests: {net.NoBrowser}");
        }
    }

    [Fact]
    public async Task Every_page_renders_the_run_and_has_no_serious_accessibility_violation()
    {
        RequireBrowser();
        await net.WaitTask1CompletedAsync(Ct);
        var page = await net.PageAsync();
        var id = net.Task1;
        var baseUrl = net.Acting.Uri.ToString();

        await VisitAsync(page, baseUrl, "overview");
        Assert.Contains("browser-logreg", await page.InnerTextAsync("#tasks"));
        Assert.Matches(@"^\d", (await page.InnerTextAsync("#height")).Trim());

        await VisitAsync(page, baseUrl + "tasks", "tasks");
        Assert.Contains("browser-live", await page.InnerTextAsync("#tasks"));

        await VisitAsync(page, baseUrl + $"tasks/{id}", "task");
        Assert.Equal("3 / 3", (await page.InnerTextAsync("#settled")).Trim());
        Assert.Equal("3", await page.GetAttributeAsync("#curve", "data-drawn"));
        Assert.Equal(3, await page.Locator("#rounds tbody tr").CountAsync());
        Assert.Contains("the spec below hashes to it", await page.InnerTextAsync("main"));
        Assert.Equal(3, await page.Locator("#timeline li").CountAsync());

        await VisitAsync(page, baseUrl + $"tasks/{id}/rounds/1", "round");
        Assert.Equal(4, await page.Locator("#updates tbody tr").CountAsync());
        var evilRow = page.Locator("#updates tbody tr", new PageLocatorOptions { HasText = "evil (sign-flip)" });
        Assert.Contains("rejected", await evilRow.InnerTextAsync());
        Assert.Contains("trainer slash", await page.InnerTextAsync("#movements"));
        Assert.Contains("missed", await page.InnerTextAsync("#validators"));
        var blob = await page.Locator("#updates tbody tr a.hash").First.GetAttributeAsync("href");
        using (var http = new HttpClient())
        {
            var bytes = await http.GetByteArrayAsync(new Uri(net.Acting.Uri, blob), Ct);
            Assert.Equal(blob!.Split('/')[^1].Replace("0x", "", StringComparison.Ordinal), Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        }

        await VisitAsync(page, baseUrl + $"tasks/{id}/leaderboard?sort=slashed&dir=desc", "leaderboard");
        var first = await page.Locator("#board tbody tr").First.InnerTextAsync();
        Assert.True(first.Contains("evil", StringComparison.Ordinal) || first.Contains("lazy", StringComparison.Ordinal), first);
        await page.ClickAsync("#board th a:text-is('Rewards')");
        Assert.Contains("sort=rewards", page.Url, StringComparison.Ordinal);

        await VisitAsync(page, baseUrl + $"accounts/{Evil}", "account");
        Assert.Contains("update rejected", await page.InnerTextAsync("#history"));
        // The live task may add newer history rows of its own: follow a round of this task.
        await page.Locator("#history tbody tr").Filter(new LocatorFilterOptions { Has = page.Locator($"a[href='tasks/{id}']") })
            .Locator("a:text-matches('round \\\\d')").First.ClickAsync();
        Assert.Contains($"/tasks/{id}/rounds/", page.Url, StringComparison.Ordinal);

        await VisitAsync(page, baseUrl + "tasks/new", "create-task");
        Assert.Equal(1, await page.Locator("form#create-task").CountAsync());
        await VisitAsync(page, baseUrl + "stake", "stake");
        Assert.Equal(1, await page.Locator("form#stake-form").CountAsync());
        await VisitAsync(page, baseUrl + "governance", "governance");
        Assert.Contains("incentives.trainer_slash_bps", await page.InnerTextAsync("#params"));
        Assert.Contains("liveness.abandon_blocks", await page.InnerTextAsync("#params"));
        Assert.Equal(Skein.Ledger.Governance.GovernedParameters.All.Count, await page.Locator("#params tbody tr").CountAsync());
        Assert.Contains("No proposal yet", await page.InnerTextAsync("main"));
        Assert.Empty(net.Errors);
    }

    [Fact]
    public async Task The_curve_gains_a_point_when_a_round_finishes_without_a_reload()
    {
        RequireBrowser();
        var page = await net.PageAsync();
        await page.GotoAsync(net.ReadOnly.Uri + $"tasks/{net.LiveTask}");
        await page.WaitForSelectorAsync("body[data-live-connected]", new PageWaitForSelectorOptions { Timeout = 10_000 });
        Assert.Equal("0", await page.GetAttributeAsync("#curve", "data-drawn"));
        await page.EvaluateAsync("() => { window.__skeinMarker = 42; }");

        net.StartLiveTaskAsync();
        await page.WaitForFunctionAsync("() => +document.querySelector('#curve').dataset.drawn >= 1", null, new PageWaitForFunctionOptions { Timeout = 120_000 });

        Assert.Equal(42, await page.EvaluateAsync<int>("() => window.__skeinMarker"));
        Assert.True(await page.Locator("#rounds tbody tr").CountAsync() >= 1);
        Assert.Contains("%", await page.InnerTextAsync("#accuracy"));
        Assert.True(await page.Locator("#curve canvas").CountAsync() >= 1, "uPlot drew no canvas");
    }

    [Fact]
    public async Task The_create_task_form_names_each_bad_field_then_creates_a_task_on_the_ledger()
    {
        RequireBrowser();
        var page = await net.PageAsync();
        await page.GotoAsync(net.Acting.Uri + "tasks/new");
        await page.FillAsync("#name", "");
        await page.FillAsync("#rounds", "0");
        await page.FillAsync("#training-lr", "abc");
        await page.FillAsync("#reward_pool", "-5");
        await page.ClickAsync("#create");

        var errors = await page.InnerTextAsync("#errors");
        Assert.Contains("name: must be 1 to 100 characters", errors);
        Assert.Contains("rounds: must be in [1, 100000], got 0", errors);
        Assert.Contains("training.lr: must be a number, got 'abc'", errors);
        Assert.Contains("reward_pool: must be a positive token amount", errors);
        Assert.Contains("rounds:", await page.InnerTextAsync("#rounds-error"));
        Assert.Equal("true", await page.GetAttributeAsync("#rounds", "aria-invalid"));
        Assert.Equal("abc", await page.InputValueAsync("#training-lr"));
        var before = (await net.Coordinator.Context.Ledger.ListTasksAsync(Ct)).Count;
        await AxeAsync(page);
        await ShotAsync(page, "create-task-errors");

        await page.FillAsync("#name", "from-the-browser");
        await page.FillAsync("#rounds", "2");
        await page.FillAsync("#training-lr", "0.05");
        await page.FillAsync("#reward_pool", "25");
        await page.ClickAsync("button[value=preview]");
        var hash = (await page.InnerTextAsync("#preview-hash")).Trim();
        Assert.Matches("^0x[0-9a-f]{64}$", hash);
        Assert.Contains("Locks 25 SKN", await page.InnerTextAsync("#preview"));
        Assert.Equal(before, (await net.Coordinator.Context.Ledger.ListTasksAsync(Ct)).Count);

        await page.ClickAsync("#create");
        Assert.Contains("recorded on the ledger", await page.InnerTextAsync("#result"));
        var tasks = await net.Coordinator.Context.Ledger.ListTasksAsync(Ct);
        var created = Assert.Single(tasks, t => t.SpecHash.ToString() == hash);
        Assert.Equal(User, created.Creator.ToString());
        Assert.Equal(Tokens.Whole(25), created.Escrow);
        await page.ClickAsync("#result a");
        Assert.Contains($"task {created.Id}", await page.InnerTextAsync("h1"));
        Assert.Equal(hash, (await page.InnerTextAsync("#spec-hash")).Trim());
    }

    [Fact]
    public async Task The_stake_form_stakes_with_the_console_key_and_reports_refusals()
    {
        RequireBrowser();
        var page = await net.PageAsync();
        await page.GotoAsync(net.Acting.Uri + "stake");
        await page.FillAsync("#stake-amount", "lots");
        await page.ClickAsync("#stake-form button[value=stake]");
        Assert.Contains("amount:", await page.InnerTextAsync("#stake-amount-error"));

        await page.FillAsync("#stake-amount", "1000000");
        await page.ClickAsync("#stake-form button[value=stake]");
        Assert.Contains("balance", (await page.InnerTextAsync("#result")).ToLowerInvariant());

        var before = (await net.Coordinator.Context.Ledger.GetAccountAsync(TrainingNetwork.Key("user").Address, Ct)).Stakes.FirstOrDefault(s => s.Role == Role.Validator)?.Self ?? 0;
        await page.SelectOptionAsync("#stake-role", "validator");
        await page.FillAsync("#stake-amount", "5");
        await page.ClickAsync("#stake-form button[value=stake]");
        Assert.Contains("staked 5 as validator", await page.InnerTextAsync("#result"));
        var after = (await net.Coordinator.Context.Ledger.GetAccountAsync(TrainingNetwork.Key("user").Address, Ct)).Stakes.Single(s => s.Role == Role.Validator).Self;
        Assert.Equal(before + Tokens.Whole(5), after);
    }

    [Fact]
    public async Task A_read_only_console_shows_no_action_and_refuses_a_crafted_post()
    {
        RequireBrowser();
        var page = await net.PageAsync();
        var baseUrl = net.ReadOnly.Uri.ToString();
        foreach (var path in new[] { "", "tasks", $"tasks/{net.Task1}", $"tasks/{net.Task1}/rounds/1", "tasks/new", "stake", "governance", $"accounts/{User}" })
        {
            await page.GotoAsync(baseUrl + path);
            Assert.True(await page.Locator("#read-only").IsVisibleAsync(), path);
            // Only the re-verify buttons, which read and sign nothing, may remain.
            var actions = await page.Locator("form").EvaluateAllAsync<string[]>("fs => fs.map(f => f.innerText.trim()).filter(t => !t.startsWith('Re-verify'))");
            Assert.True(actions.Length == 0, $"{path}: {string.Join(" | ", actions)}");
        }
        await page.GotoAsync(baseUrl + "stake");
        Assert.Contains("read-only", await page.InnerTextAsync("#no-action"));

        // A crafted post (with a valid form token from this console) signs nothing.
        await page.GotoAsync(baseUrl + $"tasks/{net.Task1}");
        var token = await page.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value");
        var stakeBefore = (await net.Coordinator.Context.Ledger.GetAccountAsync(TrainingNetwork.Key("user").Address, Ct)).Stakes.Sum(s => (decimal)s.Self);
        var response = await page.APIRequest.PostAsync(baseUrl + "stake", new APIRequestContextOptions
        {
            Form = page.APIRequest.CreateFormData()
                .Append("_handler", "stake").Append("__RequestVerificationToken", token!)
                .Append("StakeModel.Role", "trainer").Append("StakeModel.Amount", "1").Append("StakeModel.Intent", "stake"),
        });
        Assert.DoesNotContain("staked 1", await response.TextAsync());
        var stakeAfter = (await net.Coordinator.Context.Ledger.GetAccountAsync(TrainingNetwork.Key("user").Address, Ct)).Stakes.Sum(s => (decimal)s.Self);
        Assert.Equal(stakeBefore, stakeAfter);
    }

    [Fact]
    public async Task A_form_post_without_the_antiforgery_token_is_refused()
    {
        var ct = Ct;
        using var http = new HttpClient();
        var before = (await net.Coordinator.Context.Ledger.GetAccountAsync(TrainingNetwork.Key("user").Address, ct)).Stakes.Sum(s => (decimal)s.Self);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "stake", ["StakeModel.Role"] = "trainer", ["StakeModel.Amount"] = "1", ["StakeModel.Intent"] = "stake",
        });
        using var response = await http.PostAsync(new Uri(net.Acting.Uri, "stake"), form, ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        var after = (await net.Coordinator.Context.Ledger.GetAccountAsync(TrainingNetwork.Key("user").Address, ct)).Stakes.Sum(s => (decimal)s.Self);
        Assert.Equal(before, after);
    }

    private async Task VisitAsync(IPage page, string url, string name)
    {
        var response = await page.GotoAsync(url);
        Assert.True(response is { Ok: true }, $"{url}: {response?.Status}");
        await AxeAsync(page);
        await ShotAsync(page, name);
    }

    private static Task AxeAsync(IPage page) => BrowserSetup.AxeAsync(page);

    private static Task ShotAsync(IPage page, string name) => BrowserSetup.ShotAsync(page, name);
}
