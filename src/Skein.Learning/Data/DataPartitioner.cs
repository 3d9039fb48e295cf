using Skein.Core;

namespace Skein.Learning.Data;

/// <summary>How a dataset is split among clients.</summary>
public enum PartitionKind
{
    /// <summary>Uniformly at random, equal sizes.</summary>
    Iid,

    /// <summary>McMahan et al.'s pathological non-IID split: sort by label, cut into 2K shards, two per client.</summary>
    Shards,

    /// <summary>Per class, proportions drawn from Dirichlet(alpha) over clients (Hsu et al. 2019).</summary>
    Dirichlet,
}

/// <summary>
/// Seeded partitioners: each returns, per client, the ascending indices of its examples. Partitions are
/// disjoint and cover every example, and the same seed gives the same partition on any machine.
/// </summary>
/// <remarks>
/// <see cref="CreatePartition"/> returns the compact <see cref="ClientPartition"/> and, for iid and Dirichlet,
/// accepts more clients than examples (a population of 100,000 phones sharing MNIST's 60,000 images): the
/// examples are still dealt out exactly once, and the clients left without one hold an empty range. The
/// <c>int[][]</c> methods keep their rule of at least one example per client. Both give the same clients the same
/// examples for the same seed.
/// </remarks>
public static class DataPartitioner
{
    public static int[][] Create(PartitionKind kind, ReadOnlySpan<byte> labels, int classCount, int clients, ulong seed,
        double dirichletAlpha = 0.5, int shardsPerClient = 2) => kind switch
    {
        PartitionKind.Iid => Iid(labels.Length, clients, seed),
        PartitionKind.Shards => Shards(labels, clients, shardsPerClient, seed),
        PartitionKind.Dirichlet => Dirichlet(labels, classCount, clients, dirichletAlpha, seed),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The compact form of <see cref="Create"/>; iid and Dirichlet also allow more clients than examples.</summary>
    public static ClientPartition CreatePartition(PartitionKind kind, ReadOnlySpan<byte> labels, int classCount, int clients, ulong seed,
        double dirichletAlpha = 0.5, int shardsPerClient = 2) => kind switch
    {
        PartitionKind.Iid => IidPartition(labels.Length, clients, seed),
        PartitionKind.Shards => ClientPartition.FromArrays(Shards(labels, clients, shardsPerClient, seed)),
        PartitionKind.Dirichlet => DirichletPartition(labels, classCount, clients, dirichletAlpha, seed),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static int[][] Iid(int count, int clients, ulong seed)
    {
        CheckClients(count, clients);
        return IidPartition(count, clients, seed).ToArrays();
    }

    /// <summary>
    /// Shuffles the examples and deals them out in runs of (nearly) equal length. With more clients than examples
    /// the first <paramref name="count"/> clients get one example each and the rest none. O(count + clients).
    /// </summary>
    public static ClientPartition IidPartition(int count, int clients, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        var order = Enumerable.Range(0, count).ToArray();
        DeterministicRandom.Derive(seed, "partition/iid").Shuffle(order.AsSpan());
        var offsets = new int[clients + 1];
        var baseSize = count / clients;
        var remainder = count % clients;
        for (var c = 0; c < clients; c++)
        {
            offsets[c + 1] = offsets[c] + baseSize + (c < remainder ? 1 : 0);
            Array.Sort(order, offsets[c], offsets[c + 1] - offsets[c]);
        }
        return new ClientPartition(order, offsets);
    }

    /// <summary>
    /// Sorts examples by label, cuts them into <c>clients * shardsPerClient</c> contiguous shards of (nearly) equal
    /// size and deals each client <paramref name="shardsPerClient"/> shards at random. With 60,000 examples and
    /// 100 clients this is the paper's 200 shards of 300.
    /// </summary>
    public static int[][] Shards(ReadOnlySpan<byte> labels, int clients, int shardsPerClient, ulong seed)
    {
        CheckClients(labels.Length, clients);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardsPerClient);
        var shardCount = clients * shardsPerClient;
        if (shardCount > labels.Length)
        {
            throw new ArgumentException($"{shardCount} shards need at least as many examples, got {labels.Length}");
        }
        var byLabel = Enumerable.Range(0, labels.Length).ToArray();
        var keys = labels.ToArray();
        // Stable: equal labels keep index order, so the cut depends only on the data.
        Array.Sort(keys.Select((l, i) => ((long)l << 32) | (uint)i).ToArray(), byLabel);
        var shards = SplitEvenly(byLabel, shardCount);
        var dealt = Enumerable.Range(0, shardCount).ToArray();
        DeterministicRandom.Derive(seed, "partition/shards").Shuffle(dealt.AsSpan());
        var result = new int[clients][];
        for (var c = 0; c < clients; c++)
        {
            var mine = new List<int>();
            for (var s = 0; s < shardsPerClient; s++)
            {
                mine.AddRange(shards[dealt[(c * shardsPerClient) + s]]);
            }
            result[c] = Sorted(mine.ToArray());
        }
        return result;
    }

    /// <summary>
    /// For each class, shuffles its examples and cuts them among clients in proportions drawn from
    /// Dirichlet(alpha, ..., alpha). Small alpha gives each client few classes; large alpha approaches IID.
    /// Draws are repeated (a bounded number of times) until every client has a minimum number of examples.
    /// </summary>
    public static int[][] Dirichlet(ReadOnlySpan<byte> labels, int classCount, int clients, double alpha, ulong seed, int maxAttempts = 1000)
    {
        CheckClients(labels.Length, clients);
        return DirichletPartition(labels, classCount, clients, alpha, seed, maxAttempts).ToArrays();
    }

    /// <summary>
    /// <see cref="Dirichlet"/> in compact form, in O(examples + classes * clients) time and memory per draw. With
    /// more clients than examples the minimum size is 0, so the first draw stands and many clients hold nothing.
    /// </summary>
    public static ClientPartition DirichletPartition(ReadOnlySpan<byte> labels, int classCount, int clients, double alpha, ulong seed, int maxAttempts = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        if (!(alpha > 0) || double.IsInfinity(alpha))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be a finite number > 0");
        }
        var minSize = Math.Min(10, labels.Length / clients);
        var byClass = new List<int>[classCount];
        for (var k = 0; k < classCount; k++)
        {
            byClass[k] = [];
        }
        for (var i = 0; i < labels.Length; i++)
        {
            byClass[labels[i]].Add(i);
        }

        var rng = DeterministicRandom.Derive(seed, "partition/dirichlet");
        var proportions = new double[clients];
        var sizes = new int[clients];
        // Per class, its examples shuffled and where each client's run of them ends (cuts[k][c + 1]).
        var shuffled = new int[classCount][];
        var cuts = new int[classCount][];
        for (var attempt = 0; attempt < maxAttempts; attempt++)
        {
            Array.Clear(sizes);
            for (var k = 0; k < classCount; k++)
            {
                var members = shuffled[k] = byClass[k].ToArray();
                rng.Shuffle(members.AsSpan());
                var sum = 0.0;
                for (var c = 0; c < clients; c++)
                {
                    proportions[c] = rng.NextGamma(alpha);
                    sum += proportions[c];
                }
                var ends = cuts[k] ??= new int[clients + 1];
                var start = 0;
                var cumulative = 0.0;
                for (var c = 0; c < clients; c++)
                {
                    cumulative += proportions[c];
                    var end = c == clients - 1 ? members.Length : (int)Math.Round(cumulative / sum * members.Length);
                    end = Math.Clamp(end, start, members.Length);
                    ends[c + 1] = end;
                    sizes[c] += end - start;
                    start = end;
                }
            }
            if (sizes.All(n => n >= minSize))
            {
                var offsets = new int[clients + 1];
                for (var c = 0; c < clients; c++)
                {
                    offsets[c + 1] = offsets[c] + sizes[c];
                }
                var indices = new int[offsets[^1]];
                for (var c = 0; c < clients; c++)
                {
                    var at = offsets[c];
                    for (var k = 0; k < classCount; k++)
                    {
                        var run = shuffled[k].AsSpan(cuts[k][c], cuts[k][c + 1] - cuts[k][c]);
                        run.CopyTo(indices.AsSpan(at));
                        at += run.Length;
                    }
                    Array.Sort(indices, offsets[c], sizes[c]);
                }
                return new ClientPartition(indices, offsets);
            }
        }
        throw new ArgumentException(
            $"no Dirichlet({alpha}) partition in {maxAttempts} draws gave every one of {clients} clients at least {minSize} examples; raise alpha or lower the client count");
    }

    private static void CheckClients(int count, int clients)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        if (clients > count)
        {
            throw new ArgumentException($"{clients} clients cannot each get an example of {count}");
        }
    }

    private static int[][] SplitEvenly(int[] items, int parts)
    {
        var result = new int[parts][];
        var baseSize = items.Length / parts;
        var remainder = items.Length % parts;
        var start = 0;
        for (var p = 0; p < parts; p++)
        {
            var size = baseSize + (p < remainder ? 1 : 0);
            result[p] = items.AsSpan(start, size).ToArray();
            start += size;
        }
        return result;
    }

    private static int[] Sorted(int[] a)
    {
        Array.Sort(a);
        return a;
    }
}
