using System.Collections;

namespace Skein.Learning.Data;

/// <summary>
/// Which examples each client holds, as one array of example indices and one array of offsets into it: client c
/// holds <c>Indices[Offsets[c]..Offsets[c + 1]]</c>, in ascending order.
/// </summary>
/// <remarks>
/// A population of 100,000 clients costs 4 bytes per client (its offset) beside the 4 bytes per example, instead
/// of an array object per client: no client carries a copy of its data, only a range of the shared index.
/// </remarks>
public sealed class ClientPartition : IReadOnlyList<ArraySegment<int>>
{
    private readonly int[] _indices;
    private readonly int[] _offsets;

    /// <param name="indices">Every client's example indices, client after client.</param>
    /// <param name="offsets">Where each client's run starts; one more entry than clients, the last being indices.Length.</param>
    public ClientPartition(int[] indices, int[] offsets)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(offsets);
        if (offsets.Length < 1 || offsets[0] != 0 || offsets[^1] != indices.Length)
        {
            throw new ArgumentException("offsets must start at 0 and end at the number of indices", nameof(offsets));
        }
        for (var c = 1; c < offsets.Length; c++)
        {
            if (offsets[c] < offsets[c - 1])
            {
                throw new ArgumentException($"offsets must not decrease (client {c - 1})", nameof(offsets));
            }
        }
        _indices = indices;
        _offsets = offsets;
        NonEmptyClients = CountNonEmpty(offsets);
    }

    /// <summary>The partition of per-client arrays, concatenated.</summary>
    public static ClientPartition FromArrays(IReadOnlyList<int[]> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var offsets = new int[parts.Count + 1];
        for (var c = 0; c < parts.Count; c++)
        {
            offsets[c + 1] = checked(offsets[c] + parts[c].Length);
        }
        var indices = new int[offsets[^1]];
        for (var c = 0; c < parts.Count; c++)
        {
            parts[c].CopyTo(indices, offsets[c]);
        }
        return new ClientPartition(indices, offsets);
    }

    /// <summary>K, the number of clients (some may hold no example when there are more clients than examples).</summary>
    public int Count => _offsets.Length - 1;

    /// <summary>The number of examples held, over all clients.</summary>
    public int ExampleCount => _indices.Length;

    /// <summary>Clients that hold at least one example.</summary>
    public int NonEmptyClients { get; }

    /// <summary>Client <paramref name="client"/>'s example indices, ascending (a view, not a copy).</summary>
    public ArraySegment<int> this[int client] => new(_indices, _offsets[client], _offsets[client + 1] - _offsets[client]);

    /// <summary>How many examples client <paramref name="client"/> holds.</summary>
    public int SizeOf(int client) => _offsets[client + 1] - _offsets[client];

    /// <summary>Bytes held per client beside the shared index: the one offset.</summary>
    public static int BytesPerClient => sizeof(int);

    /// <summary>The clients that hold at least one example, ascending.</summary>
    public int[] NonEmptyClientIds()
    {
        var ids = new int[NonEmptyClients];
        var n = 0;
        for (var c = 0; c < Count; c++)
        {
            if (_offsets[c + 1] > _offsets[c])
            {
                ids[n++] = c;
            }
        }
        return ids;
    }

    /// <summary>One array per client (allocates K arrays: for small populations and tests).</summary>
    public int[][] ToArrays()
    {
        var result = new int[Count][];
        for (var c = 0; c < Count; c++)
        {
            result[c] = this[c].ToArray();
        }
        return result;
    }

    public IEnumerator<ArraySegment<int>> GetEnumerator()
    {
        for (var c = 0; c < Count; c++)
        {
            yield return this[c];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static int CountNonEmpty(int[] offsets)
    {
        var n = 0;
        for (var c = 1; c < offsets.Length; c++)
        {
            if (offsets[c] > offsets[c - 1])
            {
                n++;
            }
        }
        return n;
    }
}
