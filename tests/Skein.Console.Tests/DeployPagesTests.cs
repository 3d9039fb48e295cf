using System.Net;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Skein.Console.Data;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;
using Skein.Market;

namespace Skein.Console.Tests;

/// <summary>The deploy gallery, form and job pages, and the market and lease pages, driven as a browser without scripts drives them.</summary>
[SupportedOSPlatform("linux")]
public sealed partial class DeployPagesTests(ConsoleNetwork network) : IClassFixture<ConsoleNetwork>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Dictionary<string, string> TrainerForm(string price = "1000") => new()
    {
        ["Form.Settings[SKEIN_COORDINATOR]"] = "http://127.0.0.1:9/",
        ["Form.Settings[SKEIN_TASK]"] = network.TaskId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Form.Settings[SKEIN_STAKE]"] = "50",
        ["Form.Settings[SKEIN_DATA]"] = "data",
        ["Form.Settings[SKEIN_STATUS_PORT]"] = "0",
        ["Form.Settings[SKEIN_BEHAVIOUR]"] = "honest",
        ["Form.Cpu"] = "1",
        ["Form.Memory"] = "1Gi",
        ["Form.Price"] = price,
        ["Form.Deposit"] = "5",
        ["Form.MaxPrice"] = "",
        ["Form.Provider"] = "",
        ["Form.AutoTopUp"] = "",
        ["Form.BidTimeout"] = "15",
    };

    [Fact]
    public async Task The_deploy_form_starts_a_job_that_leases_the_cheapest_provider_runs_the_node_and_sees_it_join()
    {
        var console = await network.StartConsoleAsync(ConsoleNetwork.Key("console"));
        using var browser = new ConsoleBrowser(console.Uri);
        var cheap = ConsoleNetwork.Key("cheap").Address.ToString();
        var dear = ConsoleNetwork.Key("dear").Address.ToString();

        var gallery = await browser.PageAsync("deploy");
        foreach (var template in new[] { "skein-trainer", "skein-validator", "skein-coordinator" })
        {
            Assert.Contains($"href=\"deploy/{template}\"", gallery, StringComparison.Ordinal);
        }
        var form = await browser.PageAsync("deploy/skein-trainer");
        Assert.Contains("<form", form, StringComparison.Ordinal);
        foreach (var id in new[] { "set-SKEIN_COORDINATOR", "set-SKEIN_TASK", "set-SKEIN_STAKE", "cpu", "memory", "price", "deposit", "max-price", "provider", "auto-top-up", "bid-timeout" })
        {
            Assert.Contains($"<label for=\"{id}\"", form, StringComparison.Ordinal);
            Assert.Contains($"id=\"{id}\"", form, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("SKEIN_KEY_JSON]", form, StringComparison.Ordinal);

        using var posted = await browser.SubmitAsync("deploy/skein-trainer", "deploy", TrainerForm());
        var body = await posted.Content.ReadAsStringAsync(Ct);
        Assert.True(posted.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther, $"{(int)posted.StatusCode}: {body}");
        var jobPath = JobPath().Match(posted.Headers.Location!.ToString());
        Assert.True(jobPath.Success, posted.Headers.Location.ToString());

        string page = "";
        Assert.True(await ConsoleNetwork.EventuallyAsync(async () => (page = await browser.PageAsync(jobPath.Value)).Contains("data-state=\"running\"", StringComparison.Ordinal)
            || page.Contains("data-state=\"failed\"", StringComparison.Ordinal)), page);
        Assert.Contains("data-state=\"running\"", page, StringComparison.Ordinal);
        Assert.Contains($"bid from {cheap} on group akash: 600 uact/block", page, StringComparison.Ordinal);
        Assert.Contains($"bid from {dear} on group akash: 900 uact/block", page, StringComparison.Ordinal);
        Assert.Contains($"is running on provider {cheap} at 600 uact/block (10,800,000 uact/hour)", page, StringComparison.Ordinal);
        Assert.Contains("sent 50 SKN to the node's key for its stake", page, StringComparison.Ordinal);

        // The node: what the provider received in the manifest is a key holding the stake, with the password to open it.
        var job = Assert.Single(console.Services.GetRequiredService<DeployJobs>().All);
        using var nodeKey = network.NodeKeyFromProvider(job.Node!.Value);
        Assert.Equal(Tokens.Whole(50), await network.Market.GetBalanceAsync(nodeKey.Address, Ct));
        using (var node = new MarketSigner(network.Market, nodeKey))
        {
            await node.SendAsync((f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(50) }, Ct);
            await node.SendAsync((f, n) => new JoinTask { From = f, Nonce = n, TaskId = network.TaskId, Role = Role.Trainer }, Ct);
        }
        Assert.True(await ConsoleNetwork.EventuallyAsync(async () => (page = await browser.PageAsync(jobPath.Value)).Contains("data-state=\"joined\"", StringComparison.Ordinal)), page);
        Assert.Contains($"the node {nodeKey.Address} joined task {network.TaskId} as trainer", page, StringComparison.Ordinal);

        // The lease's page: the ledger's view, the provider's, and the logs (this console owns the deployment).
        var leaseHref = LeaseHref().Match(page);
        Assert.True(leaseHref.Success, page);
        var lease = await browser.PageAsync(leaseHref.Value);
        Assert.Contains("<pre class=\"logs\"", lease, StringComparison.Ordinal);
        Assert.Contains($"node up as trainer for task {network.TaskId}", lease, StringComparison.Ordinal);
        Assert.Contains(">600 uact</dd>", lease, StringComparison.Ordinal);
        Assert.Contains("10,800,000 uact/hour", lease, StringComparison.Ordinal);
        Assert.Contains("every service runs", lease, StringComparison.Ordinal);

        // The market: both providers with their attributes, audit and quotes; the lease with its price; the escrow's runway.
        var market = await browser.PageAsync("market");
        Assert.Contains($"href=\"accounts/{cheap}\"", market, StringComparison.Ordinal);
        Assert.Contains($"href=\"accounts/{dear}\"", market, StringComparison.Ordinal);
        Assert.Contains($"href=\"accounts/{ConsoleNetwork.Key("auditor").Address}\"", market, StringComparison.Ordinal);
        Assert.Contains("<code>region=eu</code>", market, StringComparison.Ordinal);
        Assert.Contains("not audited", market, StringComparison.Ordinal);
        Assert.Contains(network.Providers[0].Uri.ToString(), market, StringComparison.Ordinal);
        Assert.Contains("600 uact/block", market, StringComparison.Ordinal);
        Assert.Contains("900 uact/block", market, StringComparison.Ordinal);
        Assert.Contains(leaseHref.Value, market, StringComparison.Ordinal);
        Assert.Contains("10,800,000 uact/hour", market, StringComparison.Ordinal);
        Assert.Matches(RunwayText(), market);
    }

    [Fact]
    public async Task A_deploy_no_provider_bids_on_explains_why_and_returns_the_deposit_and_the_stake()
    {
        var console = await network.StartConsoleAsync(ConsoleNetwork.Key("console"));
        using var browser = new ConsoleBrowser(console.Uri);
        var before = await network.Market.GetBalanceAsync(ConsoleNetwork.Key("console").Address, Ct);

        using var posted = await browser.SubmitAsync("deploy/skein-trainer", "deploy", TrainerForm(price: "1"));
        var jobPath = JobPath().Match(posted.Headers.Location?.ToString() ?? await posted.Content.ReadAsStringAsync(Ct));
        Assert.True(jobPath.Success);

        string page = "";
        Assert.True(await ConsoleNetwork.EventuallyAsync(async () => (page = await browser.PageAsync(jobPath.Value)).Contains("returned the node's", StringComparison.Ordinal)), page);
        Assert.Contains("data-state=\"no bid\"", page, StringComparison.Ordinal);
        Assert.Contains($"the ceiling of 1 uact/block is below every provider's price; the lowest is 600 uact/block from {ConsoleNetwork.Key("cheap").Address}", page, StringComparison.Ordinal);
        Assert.Contains("the deployment was closed and its deposit returned", page, StringComparison.Ordinal);
        Assert.Equal(before, await network.Market.GetBalanceAsync(ConsoleNetwork.Key("console").Address, Ct));
    }

    [Fact]
    public async Task A_deploy_form_with_bad_values_names_each_field_as_the_cli_does_and_starts_nothing()
    {
        var console = await network.StartConsoleAsync(ConsoleNetwork.Key("console"));
        using var browser = new ConsoleBrowser(console.Uri);
        var fields = TrainerForm();
        fields["Form.Deposit"] = "lots";
        fields["Form.Settings[SKEIN_TASK]"] = "99";
        fields["Form.Settings[SKEIN_COORDINATOR]"] = "coordinator:7400";
        fields["Form.Cpu"] = "many";
        fields["Form.BidTimeout"] = "0";

        using var posted = await browser.SubmitAsync("deploy/skein-trainer", "deploy", fields);
        var html = WebUtility.HtmlDecode(await posted.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Contains("deposit: 'lots' is not a non-negative decimal number", html, StringComparison.Ordinal);
        Assert.Contains("SKEIN_TASK: task 99 does not exist on the coordinator", html, StringComparison.Ordinal);
        Assert.Contains("SKEIN_COORDINATOR: must be an http(s) URL, got 'coordinator:7400'", html, StringComparison.Ordinal);
        Assert.Contains("cpu: 'many' is not a CPU amount", html, StringComparison.Ordinal);
        Assert.Contains("bid-timeout: must be seconds from 1 to 600, got '0'", html, StringComparison.Ordinal);
        Assert.Contains("id=\"deposit\"", html, StringComparison.Ordinal);
        Assert.Matches("id=\"deposit\"[^>]*aria-invalid=\"true\"", html);
        // The form keeps what was typed, so a person fixes one field rather than starting over.
        Assert.Contains("value=\"lots\"", html, StringComparison.Ordinal);
        Assert.Empty(console.Services.GetRequiredService<DeployJobs>().All);
    }

    [GeneratedRegex("deploy/jobs/[0-9a-f]{16}")]
    private static partial Regex JobPath();

    [GeneratedRegex("market/leases/0x[0-9a-fA-F]{40}/[0-9]+/[0-9]+/[0-9]+/0x[0-9a-fA-F]{40}")]
    private static partial Regex LeaseHref();

    [GeneratedRegex("[0-9,]+ blocks \\([0-9]+ (min|h|s)")]
    private static partial Regex RunwayText();
}
