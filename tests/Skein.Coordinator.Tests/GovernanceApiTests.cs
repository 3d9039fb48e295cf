using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator.Api;
using Skein.Coordinator.Hosting;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Governance;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;

namespace Skein.Coordinator.Tests;

/// <summary>Proposals, their counts and the governed parameters as the coordinator's JSON API serves them to the console and dashboards.</summary>
public sealed class GovernanceApiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-gov-api-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("gov-api-" + name)));

    [Fact]
    public async Task The_api_serves_parameters_and_a_voting_proposal_with_its_count_so_far()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] names = ["coordinator", "alice", "bob"];
        var genesis = new Genesis(81, LedgerParams.Default, names.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
        await using var host = await CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = _dir }, Key("coordinator"), genesis, NullLoggerFactory.Instance, ct);
        var ledger = host.Context.Ledger;
        async Task Send(string who, Func<Address, ulong, Transaction> build)
        {
            var key = Key(who);
            var tx = build(key.Address, await ledger.GetNonceAsync(key.Address, ct));
            await ledger.SubmitAsync(key.SignTransaction(tx, ledger.ChainId) with { ChainId = ledger.ChainId }, ct);
        }
        await Send("alice", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Validator, Amount = Tokens.Whole(300) });
        await Send("bob", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(100) });
        await Send("bob", (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.ParameterChange, Parameter = "unbonding_blocks", Value = 50, Deposit = Tokens.Whole(10) });
        await Send("alice", (f, n) => new VoteProposal { From = f, Nonce = n, ProposalId = 1, Option = VoteOption.NoWithVeto });

        using var api = new CoordinatorApiClient(host.ApiUri);
        var gov = await api.GetGovernanceAsync(ct);
        Assert.True(gov.Supported);
        Assert.Equal("0", gov.Treasury);
        var unbonding = gov.Parameters.Single(p => p.Name == "unbonding_blocks");
        Assert.Equal(("100", "1", "10000000"), (unbonding.Value, unbonding.Min, unbonding.Max));
        var proposal = Assert.Single(gov.Proposals);
        Assert.Equal(("parameter_change", "voting", "unbonding_blocks = 50"), (proposal.Kind, proposal.Status, proposal.Asks));
        // alice's 300 of the 400 staked vote no-with-veto: so far quorum is reached and the proposal is vetoed.
        Assert.Equal(("0", "300", "400"), (proposal.Yes, proposal.NoWithVeto, proposal.TotalPower));
        Assert.False(proposal.Final);
        Assert.True(proposal.QuorumReached);
        Assert.True(proposal.Vetoed);
        Assert.False(proposal.Passed);
        Assert.Empty(gov.Releases);
        Assert.Null(proposal.Voter);

        // ?voter= adds that account's power in the snapshot and its vote, for the console's vote form.
        var alice = Assert.Single((await api.GetGovernanceAsync(Key("alice").Address.ToString(), ct)).Proposals).Voter!;
        Assert.Equal((Key("alice").Address.ToString(), "300", "no_with_veto"), (alice.Address, alice.Power, alice.Option));
        var bob = Assert.Single((await api.GetGovernanceAsync(Key("bob").Address.ToString(), ct)).Proposals).Voter!;
        Assert.Equal(("100", null), (bob.Power, bob.Option));
        using var http = new HttpClient { BaseAddress = host.ApiUri };
        using var bad = await http.GetAsync("api/governance?voter=alice", ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("voter: 'alice' is not a 0x address", await bad.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }
}
