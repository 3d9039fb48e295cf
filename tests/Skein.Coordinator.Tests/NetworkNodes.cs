using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Skein.Coordinator.Hosting;
using Skein.Learning.Language;
using Skein.Learning.Registry;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Node;

namespace Skein.Coordinator.Tests;

/// <summary>A fine-tuning network in one process for tests: keys, a seeded text, a registered base, a genesis, node daemons, and a wait for them to join.</summary>
internal static class NetworkNodes
{
    internal static LedgerKey Key(string name) => LedgerKey.FromPrivateKey(SHA256.HashData(Encoding.UTF8.GetBytes("ft-" + name)));

    /// <summary>Seeded sentences from small word lists: structure a model can learn, too varied to memorise.</summary>
    internal static string Text(int variant, int length)
    {
        string[] subjects = ["the congress", "the president", "our people", "the treasury", "this nation", "the senate", "every state", "the army"];
        string[] verbs = ["shall provide for", "has considered", "will defend", "must regulate", "recommends", "has improved", "ought to secure", "reports on"];
        string[] objects = ["the public debt", "our commerce", "the common defense", "the general welfare", "foreign trade", "the western lands", "the currency", "peace abroad"];
        var rng = new Random(1_000 + variant);
        var text = new StringBuilder();
        while (text.Length < length)
        {
            text.Append(subjects[rng.Next(subjects.Length)]).Append(' ').Append(verbs[rng.Next(verbs.Length)]).Append(' ')
                .Append(objects[rng.Next(objects.Length)]).Append(rng.Next(4) == 0 ? ".\n" : ". ");
        }
        return text.ToString(0, length);
    }

    /// <summary>A base that has seen some of the text, so that updates near it matter; registered like skein model pretrain does.</summary>
    internal static string RegisterBase(ModelRegistry registry)
    {
        var config = TransformerConfig.Tiny;
        using var model = TransformerModel.Create(config);
        model.Load(config.InitialParameters(5));
        LanguageTrainer.Train(model, Encoding.UTF8.GetBytes(Text(0, 20_000)), new LanguageTrainingOptions(20, 8, 1e-2), 5, TestContext.Current.CancellationToken);
        var bytes = config.Layout().ToSafeTensors(model.ToFlat());
        var put = registry.Put(bytes, new ModelRegistration("transformer-tiny", config, ModelKind.Base) { Description = "test base" });
        Assert.True(put.Ok, put.Error);
        return put.Entry!.Hash;
    }

    /// <summary>A registry in <paramref name="folder"/> holding the test base; its hash.</summary>
    internal static string RegisteredBase(string folder)
    {
        using var registry = new ModelRegistry(folder);
        return RegisterBase(registry);
    }

    /// <summary>A genesis giving each named key 1,000 tokens.</summary>
    internal static Genesis GenesisFor(ulong chainId, IEnumerable<string> names) =>
        new(chainId, LedgerParams.Default, names.Select(n => new GenesisAllocation(Key(n).Address, Tokens.Whole(1_000))).ToArray(), 0);

    /// <summary>A trainer node over its own text, staking 20 as trainer.</summary>
    internal static async Task<Task> RunTrainerAsync(CoordinatorHost host, string dir, string name, string text, Func<NodeOptions, NodeOptions> adjust, CancellationToken stop)
    {
        var data = Path.Combine(dir, name);
        Directory.CreateDirectory(Path.Combine(data, "train"));
        await File.WriteAllTextAsync(Path.Combine(data, "train", "own.txt"), text, TestContext.Current.CancellationToken);
        var options = new NodeOptions { Coordinator = host.Uri, DataDirectory = data, StateDirectory = Path.Combine(data, "state"), TrainerStake = Tokens.Whole(20) };
        return new NodeDaemon(adjust(options), Key(name), NullLogger.Instance).RunAsync(stop);
    }

    /// <summary>A validator node over its own held-out text (in <paramref name="file"/>), staking 50 as validator.</summary>
    internal static async Task<Task> RunValidatorAsync(CoordinatorHost host, string dir, string name, string file, string content, CancellationToken stop)
    {
        var data = Path.Combine(dir, name);
        Directory.CreateDirectory(Path.Combine(data, "heldout"));
        await File.WriteAllTextAsync(Path.Combine(data, "heldout", file), content, TestContext.Current.CancellationToken);
        var options = new NodeOptions { Coordinator = host.Uri, DataDirectory = data, StateDirectory = Path.Combine(data, "state"), ValidatorStake = Tokens.Whole(50) };
        return new NodeDaemon(options, Key(name), NullLogger.Instance).RunAsync(stop);
    }

    /// <summary>Waits (at most 30 s) until the task has as many joined trainers and validators as started.</summary>
    internal static async Task WaitJoinedAsync(CoordinatorHost host, ulong taskId, int trainers, int validators)
    {
        var ct = TestContext.Current.CancellationToken;
        for (var i = 0; i < 300; i++)
        {
            var t = await host.Context.Ledger.GetTaskAsync(taskId, ct);
            if (t!.Trainers.Count == trainers && t.Validators.Count == validators)
            {
                return;
            }
            await Task.Delay(100, ct);
        }
    }
}
