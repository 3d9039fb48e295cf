using System.Net;
using System.Runtime.Versioning;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Skein.Console.Data;
using Skein.Console.Hosting;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Market;
using Skein.Market.Deploy;

namespace Skein.Console.Tests;

/// <summary>A console without a key, or read-only, shows the market and the deploy templates but no form, refuses a crafted post, and reads no logs it may not.</summary>
[SupportedOSPlatform("linux")]
public sealed class ReadOnlyConsoleTests(ConsoleNetwork network) : IClassFixture<ConsoleNetwork>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_console_without_a_key_shows_no_form_anywhere_on_the_market_and_deploy_pages()
    {
        var console = await network.StartConsoleAsync(null);
        using var browser = new ConsoleBrowser(console.Uri);
        foreach (var path in new[] { "market", "deploy", "deploy/skein-trainer", "deploy/skein-validator", "deploy/skein-coordinator" })
        {
            var html = await browser.PageAsync(path);
            Assert.DoesNotContain("<form", html, StringComparison.Ordinal);
            Assert.DoesNotContain("__RequestVerificationToken", html, StringComparison.Ordinal);
        }
        var template = await browser.PageAsync("deploy/skein-trainer");
        Assert.Contains("This console is read-only", template, StringComparison.Ordinal);
        Assert.Contains("<code>SKEIN_TASK</code>", template, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_read_only_console_with_a_key_refuses_a_crafted_deploy_post_and_signs_nothing()
    {
        var key = ConsoleNetwork.Key("console");
        var fields = new Dictionary<string, string>
        {
            ["_handler"] = "deploy",
            ["Form.Settings[SKEIN_COORDINATOR]"] = "http://127.0.0.1:9/",
            ["Form.Settings[SKEIN_TASK]"] = network.TaskId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Form.Settings[SKEIN_STAKE]"] = "50",
            ["Form.Deposit"] = "lots",
            ["Form.BidTimeout"] = "10",
        };

        // The crafted post is well formed: an acting console takes it (and answers with its field errors).
        var acting = await network.StartConsoleAsync(key);
        using (var browser = new ConsoleBrowser(acting.Uri))
        {
            using var accepted = await CraftedPostAsync(acting, browser, fields);
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
            Assert.Contains("deposit: &#x27;lots&#x27; is not a non-negative decimal number", await accepted.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        var console = await network.StartConsoleAsync(key, readOnly: true);
        using (var browser = new ConsoleBrowser(console.Uri))
        {
            Assert.DoesNotContain("<form", await browser.PageAsync("deploy/skein-trainer"), StringComparison.Ordinal);
            var deployments = (await network.Market.ListDeploymentsAsync(new DeploymentQuery(key.Address), Ct)).Count;
            fields["Form.Deposit"] = "5";
            using var posted = await CraftedPostAsync(console, browser, fields);
            Assert.Equal(HttpStatusCode.BadRequest, posted.StatusCode);
            Assert.Null(posted.Headers.Location);
            Assert.Empty(console.Services.GetRequiredService<DeployJobs>().All);
            Assert.Equal(deployments, (await network.Market.ListDeploymentsAsync(new DeploymentQuery(key.Address), Ct)).Count);
        }
    }

    [Fact]
    public async Task The_lease_page_shows_the_provider_s_view_but_no_logs_to_a_console_that_does_not_own_the_deployment()
    {
        using var tenant = ConsoleNetwork.Key("tenant");
        var lease = await DeployAsTenantAsync(tenant);
        var path = $"market/leases/{lease.Owner}/{lease.Dseq}/{lease.Gseq}/{lease.Oseq}/{lease.Provider}";

        using (var keyless = new ConsoleBrowser((await network.StartConsoleAsync(null)).Uri))
        {
            var html = await keyless.PageAsync(path);
            Assert.Contains("Logs are unavailable here", html, StringComparison.Ordinal);
            Assert.Contains("this console has no key", html, StringComparison.Ordinal);
            Assert.DoesNotContain("<pre class=\"logs\"", html, StringComparison.Ordinal);
            Assert.Contains("every service runs", html, StringComparison.Ordinal);
            Assert.Contains(">running</span>", html, StringComparison.Ordinal);
        }
        using (var other = new ConsoleBrowser((await network.StartConsoleAsync(ConsoleNetwork.Key("console"))).Uri))
        {
            var html = await other.PageAsync(path);
            Assert.Contains($"this console's key ({ConsoleNetwork.Key("console").Address}) does not own this deployment", html, StringComparison.Ordinal);
            Assert.DoesNotContain("node up as", html, StringComparison.Ordinal);
        }
        // The owner's console reads them even read-only: reading is not acting.
        using (var owner = new ConsoleBrowser((await network.StartConsoleAsync(tenant, readOnly: true)).Uri))
        {
            var html = await owner.PageAsync(path);
            Assert.Contains("node up as trainer", html, StringComparison.Ordinal);
        }
        using (var keyless = new ConsoleBrowser((await network.StartConsoleAsync(null)).Uri))
        {
            var html = await keyless.PageAsync($"market/leases/{lease.Owner}/{lease.Dseq}/9/1/{lease.Provider}");
            Assert.Contains("The ledger has no lease", html, StringComparison.Ordinal);
            html = await keyless.PageAsync($"market/leases/nobody/{lease.Dseq}/1/1/{lease.Provider}");
            Assert.Contains("owner: ", html, StringComparison.Ordinal);
        }
    }

    /// <summary>Deploys the trainer template with `skein deploy`'s flow as <paramref name="tenant"/>, outside any console.</summary>
    private async Task<LeaseId> DeployAsTenantAsync(LedgerKey tenant)
    {
        var root = Skein.Market.Templates.TemplateRenderer.FindTemplatesRoot(AppContext.BaseDirectory)!;
        using var node = LedgerKey.Generate();
        var source = DeploySource.Load(Path.Combine(root, "skein-trainer"), new Dictionary<string, string>
        {
            ["SKEIN_COORDINATOR"] = "http://127.0.0.1:9/",
            ["SKEIN_KEY_JSON"] = KeyFile.Encrypt(node, "pw", KdfStrength.Light),
            ["SKEIN_KEY_PASSWORD"] = "pw",
            ["SKEIN_DATA"] = "data",
            ["cpu"] = "1",
            ["memory"] = "1Gi",
        }, root);
        Assert.True(source.Ok, string.Join("; ", source.Errors));
        var outcome = await new DeployFlow(network.Market, tenant, network.ProviderClient).RunAsync(source.Plan!, new DeployOptions
        {
            Deposit = Tokens.Whole(1),
            BidWindow = TimeSpan.FromMilliseconds(400),
            PollInterval = TimeSpan.FromMilliseconds(100),
            UpTimeout = TimeSpan.FromSeconds(15),
        }, null, Ct);
        Assert.True(outcome.Ok, outcome.Error);
        return Assert.Single(outcome.Leases).Lease;
    }

    /// <summary>
    /// Posts <paramref name="fields"/> with a valid antiforgery pair made by the console's own services, as if a page had
    /// rendered one: a refusal then comes from the console, not from a missing token.
    /// </summary>
    private static async Task<HttpResponseMessage> CraftedPostAsync(ConsoleHost console, ConsoleBrowser browser, Dictionary<string, string> fields)
    {
        var context = new DefaultHttpContext { RequestServices = console.Services };
        var tokens = console.Services.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        var name = console.Services.GetRequiredService<IOptions<AntiforgeryOptions>>().Value.Cookie.Name!;
        browser.Cookies.Add(console.Uri, new Cookie(name, tokens.CookieToken!, "/"));
        return await browser.PostAsync("deploy/skein-trainer", new Dictionary<string, string>(fields) { ["__RequestVerificationToken"] = tokens.RequestToken! });
    }
}
