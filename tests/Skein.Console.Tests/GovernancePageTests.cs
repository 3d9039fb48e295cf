using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;
using Skein.Console.Hosting;
using Skein.Ledger;
using Skein.Ledger.Governance;
using Skein.Ledger.Transactions;

namespace Skein.Console.Tests;

/// <summary>Proposing and voting from the governance page, driven as a browser without scripts drives it, and once in chromium for accessibility.</summary>
public sealed class GovernancePageTests(GovernanceNetwork net) : IClassFixture<GovernanceNetwork>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Address Me => GovernanceNetwork.Key("console").Address;

    private static Dictionary<string, string> Change(string parameter, string value, string deposit = "10") => new()
    {
        ["Proposal.Kind"] = "parameter_change",
        ["Proposal.Parameter"] = parameter,
        ["Proposal.Value"] = value,
        ["Proposal.Deposit"] = deposit,
    };

    private async Task<IReadOnlyList<ProposalInfo>> ProposalsAsync() => (await net.Coordinator.Context.Ledger.GetGovernanceAsync(Ct)).Proposals;

    private static async Task<string> BodyAsync(HttpResponseMessage response)
    {
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync(Ct));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {html}");
        return html;
    }

    /// <summary>Opens a proposal by the other staker, outside the console, and returns it.</summary>
    private async Task<ProposalInfo> OtherProposesAsync(string parameter, ulong value)
    {
        await net.SendAsync("other", (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.ParameterChange, Parameter = parameter, Value = value, Deposit = Tokens.Whole(10) });
        return (await ProposalsAsync()).Last(p => p.Parameter == parameter && p.Value == value);
    }

    [Fact]
    public async Task Proposing_a_parameter_change_from_the_console_opens_a_proposal_the_page_shows()
    {
        using var browser = new ConsoleBrowser(net.Acting.Uri);
        var page = await browser.PageAsync("governance");
        foreach (var id in new[] { "proposal-kind", "proposal-deposit", "proposal-parameter", "proposal-value", "proposal-approve-task", "proposal-release-task", "proposal-model",
            "proposal-name", "proposal-license", "proposal-amount", "proposal-recipient", "proposal-fund-task" })
        {
            Assert.Contains($"<label for=\"{id}\">", page, StringComparison.Ordinal);
            Assert.Contains($"id=\"{id}\"", page, StringComparison.Ordinal);
        }
        // The deposit starts at governance.min_deposit; each parameter shows its range and its value in force.
        Assert.Contains("id=\"proposal-deposit\" name=\"Proposal.Deposit\" value=\"10\"", page, StringComparison.Ordinal);
        Assert.Contains("incentives.trainer_slash_bps [0 to 10000; now 1000]", page, StringComparison.Ordinal);
        foreach (var kind in new[] { "parameter_change", "task_approval", "model_release", "treasury_spend" })
        {
            Assert.Contains($"<option value=\"{kind}\"", page, StringComparison.Ordinal);
        }

        using var posted = await browser.SubmitAsync("governance", "propose", Change("unbonding_blocks", "50"));
        var html = await BodyAsync(posted);
        var proposal = Assert.Single(await ProposalsAsync(), p => p.Proposer == Me && p.Parameter == "unbonding_blocks");
        Assert.Equal((50, Tokens.Whole(10), "voting"), ((int)proposal.Value, proposal.Deposit, proposal.Status));
        Assert.Contains($"proposal {proposal.Id} (parameter_change) opened: unbonding_blocks = 50; voting ends at height {proposal.EndHeight}; 10 SKN locked (block ", html, StringComparison.Ordinal);

        page = await browser.PageAsync("governance");
        Assert.Contains($"<tr data-proposal=\"{proposal.Id}\">", page, StringComparison.Ordinal);
        Assert.Contains($"<fieldset data-proposal=\"{proposal.Id}\">", page, StringComparison.Ordinal);
        Assert.Contains($"<legend>Proposal {proposal.Id}: unbonding_blocks = 50</legend>", page, StringComparison.Ordinal);
        // The console's key had 100 staked when the proposal started.
        Assert.Contains("Your voting power: <strong class=\"power\">100 SKN</strong>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Voting_from_the_console_records_the_vote_and_a_second_vote_changes_it()
    {
        var proposal = await OtherProposesAsync("incentives.trainer_share_bps", 6_000);
        using var browser = new ConsoleBrowser(net.Acting.Uri);
        var page = await browser.PageAsync("governance");
        Assert.Contains($"value=\"{proposal.Id}:no_with_veto\"", page, StringComparison.Ordinal);

        using (var posted = await browser.SubmitAsync("governance", "vote", new Dictionary<string, string> { ["Vote.Choice"] = $"{proposal.Id}:no_with_veto" }))
        {
            Assert.Contains($"voted no_with_veto on proposal {proposal.Id} (block ", await BodyAsync(posted), StringComparison.Ordinal);
        }
        Assert.Equal(VoteOption.NoWithVeto, (await ProposalsAsync()).Single(p => p.Id == proposal.Id).Votes[Me]);
        page = await browser.PageAsync("governance");
        var fieldset = page[page.IndexOf($"<fieldset data-proposal=\"{proposal.Id}\">", StringComparison.Ordinal)..];
        Assert.Contains("Your vote: <strong class=\"my-vote\">no_with_veto</strong>", fieldset[..fieldset.IndexOf("</fieldset>", StringComparison.Ordinal)], StringComparison.Ordinal);

        using (var posted = await browser.SubmitAsync("governance", "vote", new Dictionary<string, string> { ["Vote.Choice"] = $"{proposal.Id}:yes" }))
        {
            Assert.Contains($"voted yes on proposal {proposal.Id}", await BodyAsync(posted), StringComparison.Ordinal);
        }
        var counted = (await ProposalsAsync()).Single(p => p.Id == proposal.Id);
        Assert.Equal(VoteOption.Yes, counted.Votes[Me]);
        Assert.Single(counted.Votes);

        using (var posted = await browser.SubmitAsync("governance", "vote", new Dictionary<string, string> { ["Vote.Choice"] = $"{proposal.Id}:maybe" }))
        {
            Assert.Contains("option: must be one of yes, abstain, no, no_with_veto; got 'maybe'", await BodyAsync(posted), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_value_out_of_range_shows_the_ledger_s_refusal_naming_the_parameter_and_opens_nothing()
    {
        using var browser = new ConsoleBrowser(net.Acting.Uri);
        var before = (await ProposalsAsync()).Count;

        using (var posted = await browser.SubmitAsync("governance", "propose", Change("incentives.trainer_slash_bps", "20000")))
        {
            var html = await BodyAsync(posted);
            Assert.Contains("<p class=\"error\" role=\"status\" id=\"result\">incentives.trainer_slash_bps: must be in [0, 10000], got 20000</p>", html, StringComparison.Ordinal);
            // The value's input is marked, and keeps what was typed.
            Assert.Contains("id=\"proposal-value\" name=\"Proposal.Value\" value=\"20000\" inputmode=\"numeric\" aria-invalid=\"true\"", html, StringComparison.Ordinal);
        }
        using (var posted = await browser.SubmitAsync("governance", "propose", Change("unbonding_blocks", "50", deposit: "1")))
        {
            Assert.Contains("deposit: 1 is below governance.min_deposit 10", await BodyAsync(posted), StringComparison.Ordinal);
        }
        using (var posted = await browser.SubmitAsync("governance", "propose", Change("unbonding_blocks", "lots")))
        {
            Assert.Contains("value: must be a non-negative integer in the parameter's unit, got 'lots'", await BodyAsync(posted), StringComparison.Ordinal);
        }
        Assert.Equal(before, (await ProposalsAsync()).Count);
    }

    [Fact]
    public async Task A_read_only_or_keyless_console_shows_no_governance_form_and_a_crafted_post_opens_nothing()
    {
        await OtherProposesAsync("incentives.halving_rounds", 500);
        foreach (var console in new[] { net.ReadOnly, net.Keyless })
        {
            using var browser = new ConsoleBrowser(console.Uri);
            var page = await browser.PageAsync("governance");
            Assert.DoesNotContain("<form", page, StringComparison.Ordinal);
            Assert.DoesNotContain("__RequestVerificationToken", page, StringComparison.Ordinal);
            Assert.Contains("This console is read-only", page, StringComparison.Ordinal);
            Assert.Contains("incentives.halving_rounds = 500", page, StringComparison.Ordinal);
        }

        // A well-formed post, with a valid antiforgery pair from the read-only console's own services, signs nothing.
        var before = (await ProposalsAsync()).Count;
        using (var browser = new ConsoleBrowser(net.ReadOnly.Uri))
        {
            using var posted = await CraftedPostAsync(net.ReadOnly, browser, new Dictionary<string, string>(Change("unbonding_blocks", "70")) { ["_handler"] = "propose" });
            Assert.Equal(HttpStatusCode.BadRequest, posted.StatusCode);
        }
        Assert.Equal(before, (await ProposalsAsync()).Count);
    }

    [Fact]
    public async Task The_governance_forms_have_no_serious_accessibility_violation()
    {
        if (net.Browser is null)
        {
            Assert.Skip($"no browser for the console tests: {net.NoBrowser}");
        }
        var proposal = await OtherProposesAsync("governance.quorum_bps", 4_000);
        var context = await net.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(net.Acting.Uri + "governance");
        Assert.Equal(1, await page.Locator($"#vote-form fieldset[data-proposal='{proposal.Id}']").CountAsync());
        await BrowserSetup.AxeAsync(page);

        await page.ClickAsync($"#vote-form button[value='{proposal.Id}:abstain']");
        Assert.Contains($"voted abstain on proposal {proposal.Id}", await page.InnerTextAsync("#result"));
        await page.SelectOptionAsync("#proposal-parameter", "incentives.trainer_slash_bps");
        await page.FillAsync("#proposal-value", "20000");
        await page.ClickAsync("#propose");
        Assert.Contains("incentives.trainer_slash_bps: must be in [0, 10000], got 20000", await page.InnerTextAsync("#result"));
        Assert.Equal("true", await page.GetAttributeAsync("#proposal-value", "aria-invalid"));
        await BrowserSetup.AxeAsync(page);
        await BrowserSetup.ShotAsync(page, "governance-forms");
        Assert.Empty(errors);
        await context.DisposeAsync();
    }

    /// <summary>Posts <paramref name="fields"/> with an antiforgery pair made by the console's own services, as if a page had rendered one.</summary>
    private static async Task<HttpResponseMessage> CraftedPostAsync(ConsoleHost console, ConsoleBrowser browser, Dictionary<string, string> fields)
    {
        var context = new DefaultHttpContext { RequestServices = console.Services };
        var tokens = console.Services.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        var name = console.Services.GetRequiredService<IOptions<AntiforgeryOptions>>().Value.Cookie.Name!;
        browser.Cookies.Add(console.Uri, new System.Net.Cookie(name, tokens.CookieToken!, "/"));
        return await browser.PostAsync("governance", new Dictionary<string, string>(fields) { ["__RequestVerificationToken"] = tokens.RequestToken! });
    }
}
