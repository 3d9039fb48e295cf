using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Skein.Core;
using Skein.Learning.Training;
using Skein.Simulation.Attacks;

namespace Skein.Simulation;

public sealed partial class SimulationRunner
{
    /// <summary>
    /// The clients sampled in <paramref name="round"/>: m of those holding data, without replacement, seeded by
    /// (seed, round), ascending. O(m): the sampler keeps only the positions it displaced.
    /// </summary>
    public int[] SampleClients(int round)
    {
        var rng = DeterministicRandom.Derive(_options.Seed, "round/sample", round);
        if (_sampleable is null)
        {
            return rng.SampleWithoutReplacement(_options.Clients, _clientsPerRound);
        }
        // Positions in the ascending list of clients with data map to ascending client ids, so the result stays sorted.
        var picked = rng.SampleWithoutReplacement(_sampleable.Length, _clientsPerRound);
        for (var i = 0; i < picked.Length; i++)
        {
            picked[i] = _sampleable[picked[i]];
        }
        return picked;
    }

    /// <summary>
    /// One client's round: honest clients train on their data; malicious ones follow <see cref="SimulationOptions.Attack"/>
    /// (and still claim their real sample count, as a cheat would). The delta is a pooled buffer the round returns.
    /// </summary>
    private (float[] Delta, TrainingResult Result) TrainClient(int round, int client, TrainingOptions training, CancellationToken cancellationToken)
    {
        var attack = _malicious.Contains(client) ? _options.Attack : null;
        var seed = DeterministicRandom.Derive(_options.Seed, "round/train", ((long)round << 32) | (uint)client).NextUInt64();
        var delta = _deltas.Rent();
        if (attack is { Trains: false })
        {
            if (attack.Kind == AttackKind.Gaussian)
            {
                var rng = DeterministicRandom.Derive(seed, "attack/gaussian");
                for (var j = 0; j < delta.Length; j++)
                {
                    delta[j] = (float)(rng.NextGaussian() * attack.Sigma);
                }
            }
            else if (attack.Stale && _lastGlobalChange is not null)
            {
                _lastGlobalChange.CopyTo(delta, 0);
            }
            else
            {
                Array.Clear(delta);
            }
            return (delta, new TrainingResult(Partition.SizeOf(client) * training.Epochs, 0, double.NaN, TimeSpan.Zero));
        }

        var model = Rent();
        try
        {
            model.Load(_global);
            // The client's examples become tensors only while it trains: nothing per client outlives its turn.
            using var data = new ClientData(_train, Partition[client], attack is { FlipsLabels: true } ? _flip : null);
            var result = LocalTrainer.Train(model, data, training with { ProximalMu = _proximalMu }, seed, cancellationToken);
            model.SubtractTo(_global, delta);
            if (attack is { Kind: AttackKind.SignFlip })
            {
                TensorPrimitives.Multiply(delta, (float)-attack.Scale, delta);
            }
            else if (attack is { Kind: AttackKind.Scaled })
            {
                TensorPrimitives.Multiply(delta, (float)attack.Scale, delta);
            }
            return (delta, result);
        }
        catch
        {
            _deltas.Return(delta);
            throw;
        }
        finally
        {
            _pool.Add(model);
        }
    }

    /// <summary>
    /// Reusable delta vectors of the model's length. A round holds one per sampled client until it is aggregated,
    /// then gives them back, so after the first round no model-sized array is allocated again (a model-sized
    /// array is on the large object heap, where a fresh one per client per round is costly to collect).
    /// </summary>
    private sealed class DeltaPool(int length)
    {
        private readonly ConcurrentBag<float[]> _free = [];
        private int _allocated;

        public int Allocated => Volatile.Read(ref _allocated);

        public float[] Rent()
        {
            if (_free.TryTake(out var buffer))
            {
                return buffer;
            }
            Interlocked.Increment(ref _allocated);
            return new float[length];
        }

        public void Return(float[] buffer) => _free.Add(buffer);
    }
}
