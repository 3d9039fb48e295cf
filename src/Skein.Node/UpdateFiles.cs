using System.Collections;

namespace Skein.Node;

/// <summary>
/// A round's updates for scoring, read from their files as the scorer reaches each one: one update in memory at a
/// time (the last one read is kept, as a scorer reads each update more than once in a row), so a validator's memory
/// does not grow with the number of updates in a round. Parsing is <paramref name="parse"/>'s, as for a download.
/// </summary>
internal sealed class UpdateFiles(IReadOnlyList<string> paths, Func<byte[], float[]> parse) : IReadOnlyList<float[]>
{
    private int _index = -1;
    private float[]? _current;

    public int Count => paths.Count;

    public float[] this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, paths.Count);
            if (index != _index)
            {
                // The previous update goes before the next is read: never two at once.
                _current = null;
                _current = parse(File.ReadAllBytes(paths[index]));
                _index = index;
            }
            return _current!;
        }
    }

    public IEnumerator<float[]> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
