using System.Runtime.InteropServices;
using Skein.Core;
using Skein.Learning.Data;

namespace Skein.Simulation.Tests;

/// <summary>
/// Partition hashes recorded before the partitioners were reworked for population scale: existing sizes must give
/// every client the same examples, bit for bit, through the old per-client arrays and the compact form alike.
/// </summary>
/// <remarks>
/// Final-model hashes were compared the same way when the runner changed, but are not pinned here: libtorch's
/// kernels may round differently on another CPU, while a partition is plain integer arithmetic.
/// </remarks>
public sealed class PartitionGoldenTests
{
    private static readonly LabeledImages Train = SyntheticImages.Create(2_000, 1);

    public static TheoryData<string, string> Partitions => new()
    {
        { "iid", "23c71a7b784b0712e0c29d9f4fe64b0504ed3cbe25a21a56e0c9f0e4ccf68f0d" },
        { "shards", "dd23dc01f3c20051e37286c4f1846cea1d534fafef2318d998304aef2fcf04ba" },
        { "dirichlet", "71e06aaa7946cb298622fceada439050afb152900e2a1251218469c19fbd4869" },
    };

    [Theory]
    [MemberData(nameof(Partitions))]
    public void Partitions_of_existing_sizes_are_unchanged(string kind, string sha256)
    {
        var partition = Enum.Parse<PartitionKind>(kind, ignoreCase: true);
        var parts = DataPartitioner.Create(partition, Train.Labels, Train.ClassCount, 20, 7);
        Assert.Equal(sha256, HashParts(parts.Select(p => (IReadOnlyList<int>)p)));
        var compact = DataPartitioner.CreatePartition(partition, Train.Labels, Train.ClassCount, 20, 7);
        Assert.Equal(sha256, HashParts(compact.Select(p => (IReadOnlyList<int>)p)));
    }

    private static string HashParts(IEnumerable<IReadOnlyList<int>> parts)
    {
        var all = new List<int>();
        foreach (var p in parts)
        {
            all.Add(-1);
            all.AddRange(p);
        }
        return Hashing.Sha256Hex(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(all)));
    }
}
