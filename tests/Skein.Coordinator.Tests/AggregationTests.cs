using System.Security.Cryptography;
using Skein.Core;
using Skein.Coordinator.Rounds;
using Skein.Learning.Models;
using Skein.Ledger;

namespace Skein.Coordinator.Tests;

public sealed class AggregationTests
{
    private const string Spec = """
        { "name": "agg", "model": "logreg", "rounds": 3, "trainers_per_round": 3, "validators_per_round": 1,
          "strategy": { "name": "fedavgm", "params": { "momentum": 0.9 } }, "reward_pool": "10", "min_stake": "1" }
        """;

    private static (Dictionary<string, byte[]> Blobs, Hash32 Model, Hash32 Previous, (Hash32, ulong)[] Updates) Round()
    {
        var layout = ModelLayouts.For(ModelKind.LogReg);
        var rng = new Random(3);
        float[] Vector(float scale) => Enumerable.Range(0, layout.TotalCount).Select(_ => (float)((rng.NextDouble() - 0.5) * scale)).ToArray();
        var blobs = new Dictionary<string, byte[]>();
        Hash32 Put(float[] v)
        {
            var bytes = layout.ToSafeTensors(v);
            var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
            blobs[hex] = bytes;
            return Hash32.Parse(hex);
        }
        var previous = Put(Vector(1));
        var model = Put(Vector(1));
        var updates = new[] { (Put(Vector(0.1f)), 100UL), (Put(Vector(0.1f)), 37UL), (Put(Vector(0.1f)), 250UL) };
        return (blobs, model, previous, updates);
    }

    [Fact]
    public async Task The_aggregate_does_not_depend_on_the_order_updates_arrived_in()
    {
        var ct = TestContext.Current.CancellationToken;
        var (blobs, model, previous, updates) = Round();
        Task<byte[]> Read(string hex, CancellationToken _) => Task.FromResult(blobs[hex]);
        var spec = TaskSpec.Parse(Spec);
        var seed = Hash32.Parse(new string('a', 64));
        var a = await RoundAggregation.ComputeAsync(Read, spec, new RoundInputs(2, seed, model, previous, updates), ct);
        var b = await RoundAggregation.ComputeAsync(Read, spec, new RoundInputs(2, seed, model, previous, [updates[2], updates[0], updates[1]]), ct);
        Assert.Equal(a, b);
        // The momentum rebuilt from the previous model is part of the result: without it the aggregate differs.
        var c = await RoundAggregation.ComputeAsync(Read, spec, new RoundInputs(2, seed, model, null, updates), ct);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Strategies_with_state_no_one_could_recompute_are_refused_for_networked_tasks()
    {
        var spec = TaskSpec.Parse(Spec.Replace("\"fedavgm\", \"params\": { \"momentum\": 0.9 }", "\"fedadam\", \"params\": {}", StringComparison.Ordinal));
        var ex = Assert.Throws<FormatException>(() => RoundAggregation.CheckVerifiable(spec));
        Assert.StartsWith("strategy.name: 'fedadam' keeps server state", ex.Message, StringComparison.Ordinal);
    }
}
