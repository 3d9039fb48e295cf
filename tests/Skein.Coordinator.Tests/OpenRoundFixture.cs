using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator.Hosting;
using Skein.Core;
using Skein.Learning.Models;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Transactions;
using Skein.Node;
using Skein.Protocol.V1;

namespace Skein.Coordinator.Tests;

/// <summary>A coordinator hosting one task of <paramref name="model"/> whose round 1 is open, three trainers and a validator joined: the stage of the refusal and upload tests.</summary>
public abstract class OpenRoundFixture(string prefix, ModelKind model, long maxUpdateBytes) : IAsyncLifetime
{
    protected string Dir { get; } = Directory.CreateTempSubdirectory("skein-" + prefix).FullName;

    protected CoordinatorHost Host { get; private set; } = null!;

    protected Dictionary<string, CoordinatorConnection> Nodes { get; } = [];

    protected ParameterLayout Layout { get; } = ModelLayouts.For(model);

    protected LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes(prefix + name)));

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        string[] names = ["coordinator", "t1", "t2", "t3", "v1"];
        var genesis = new Genesis(55, LedgerParams.Default, names.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);
        Host = await CoordinatorHost.StartAsync(new CoordinatorOptions { DataDirectory = Dir, MaxUpdateBytes = maxUpdateBytes }, Key("coordinator"), genesis, NullLoggerFactory.Instance, Ct);
        await Host.HostTaskAsync($$"""
            { "name": "refusals", "model": "{{model.ToName()}}", "rounds": 1, "trainers_per_round": 2, "validators_per_round": 1,
              "reward_pool": "10", "min_stake": "5", "reject_below": 0.1 }
            """, 1, Ct);
        foreach (var (name, role) in new[] { ("t1", Role.Trainer), ("t2", Role.Trainer), ("t3", Role.Trainer), ("v1", Role.Validator) })
        {
            var c = new CoordinatorConnection(Host.Uri, Key(name));
            await c.SignInAsync(Ct);
            await c.SendAsync((f, n) => new Stake { From = f, Nonce = n, Role = role, Amount = Tokens.Whole(5) }, Ct);
            await c.SendAsync((f, n) => new JoinTask { From = f, Nonce = n, TaskId = 1, Role = role }, Ct);
            Nodes[name] = c;
        }
        // The coordinator opens round 1 by hand: these tests drive the phases themselves.
        await Coordinator((f, n) => new OpenRound { From = f, Nonce = n, TaskId = 1, Round = 1, ModelHash = Hash32.Parse(Host.Context.Index.Task(1)!.InitialModel) });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in Nodes.Values)
        {
            c.Dispose();
        }
        await Host.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Dir, recursive: true);
    }

    protected async Task Coordinator(Func<Address, ulong, Transaction> build)
    {
        var key = Host.Context.Key;
        var nonce = await Host.Context.Ledger.GetNonceAsync(key.Address, Ct);
        await Host.Context.Ledger.SubmitAsync(key.SignTransaction(build(key.Address, nonce), 55) with { ChainId = 55 }, Ct);
    }

    protected async Task<(string Picked, string NotPicked)> Trainers()
    {
        var round = (await Host.Context.Ledger.GetRoundAsync(1, 1, Ct))!;
        var names = new[] { "t1", "t2", "t3" };
        return (names.First(n => round.PickedTrainers.Contains(Key(n).Address)), names.First(n => !round.PickedTrainers.Contains(Key(n).Address)));
    }

    protected byte[] Update(float value = 0.01f) => Layout.ToSafeTensors(Enumerable.Repeat(value, Layout.TotalCount).ToArray());

    protected static async Task<RpcException> Refused(Func<Task> call, StatusCode code, string reason)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, ex.StatusCode);
        Assert.Contains(reason, ex.Status.Detail, StringComparison.Ordinal);
        return ex;
    }

}
