using System.Globalization;

namespace Skein.Market.Runtime;

/// <summary>
/// Hands out CPU cores or GPU indices to workloads. Cores are shared, least-used first (ties rotate, so that
/// successive one-core workloads spread out); GPUs are exclusive.
/// </summary>
internal sealed class SlotPool
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, int> _use;
    private readonly bool _exclusive;
    private int _cursor;

    public SlotPool(IEnumerable<int> slots, bool exclusive)
    {
        ArgumentNullException.ThrowIfNull(slots);
        Slots = [.. slots.Distinct().Order()];
        _use = Slots.ToDictionary(s => s, _ => 0);
        _exclusive = exclusive;
    }

    public IReadOnlyList<int> Slots { get; }

    /// <summary>Slots no workload holds.</summary>
    public int Free
    {
        get
        {
            lock (_gate)
            {
                return _use.Count(u => u.Value == 0);
            }
        }
    }

    /// <summary>
    /// <paramref name="count"/> slots, or null when an exclusive pool has fewer free. A shared pool gives at most all
    /// of its slots.
    /// </summary>
    public IReadOnlyList<int>? TryAcquire(int count)
    {
        if (count <= 0 || Slots.Count == 0)
        {
            return count <= 0 ? [] : null;
        }

        lock (_gate)
        {
            var candidates = Slots
                .Where(s => !_exclusive || _use[s] == 0)
                .OrderBy(s => _use[s])
                .ThenBy(s => (IndexOf(s) - _cursor + Slots.Count) % Slots.Count)
                .Take(count)
                .ToArray();
            if (_exclusive && candidates.Length < count)
            {
                return null;
            }

            foreach (var s in candidates)
            {
                _use[s]++;
            }

            _cursor = (_cursor + candidates.Length) % Slots.Count;
            return [.. candidates.Order()];
        }
    }

    /// <summary>Marks slots as held, for workloads found running after a restart; slots outside the pool are ignored.</summary>
    public void Reserve(IEnumerable<int> slots)
    {
        lock (_gate)
        {
            foreach (var s in slots.Where(_use.ContainsKey))
            {
                _use[s]++;
            }
        }
    }

    public void Release(IEnumerable<int> slots)
    {
        lock (_gate)
        {
            foreach (var s in slots.Where(s => _use.TryGetValue(s, out var n) && n > 0))
            {
                _use[s]--;
            }
        }
    }

    private int IndexOf(int slot)
    {
        for (var i = 0; i < Slots.Count; i++)
        {
            if (Slots[i] == slot)
            {
                return i;
            }
        }

        return 0;
    }

    /// <summary>"0,2,3": the form taskset -c and Docker's CpusetCpus take.</summary>
    public static string Format(IEnumerable<int> slots) => string.Join(',', slots.Select(s => s.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Parses "0-3,6" or "0,2,3" (the kernel's and Docker's list forms); an empty or null text is no slots.</summary>
    public static IReadOnlyList<int> Parse(string? list)
    {
        var result = new List<int>();
        foreach (var part in (list ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0)
            {
                result.Add(int.Parse(part, CultureInfo.InvariantCulture));
                continue;
            }

            var from = int.Parse(part[..dash], CultureInfo.InvariantCulture);
            var to = int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture);
            for (var i = from; i <= to; i++)
            {
                result.Add(i);
            }
        }

        return result;
    }
}
