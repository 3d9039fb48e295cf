using Skein.Coordinator.Api;

namespace Skein.Console.Components;

/// <summary>Sorts a leaderboard by a column (on the server, so the order survives a reload and a shared link), ties by address.</summary>
public static class LeaderboardSort
{
    public static IReadOnlyList<ApiLeaderboardEntry> Apply(IReadOnlyList<ApiLeaderboardEntry> rows, string column, bool descending)
    {
        ArgumentNullException.ThrowIfNull(rows);
        Func<ApiLeaderboardEntry, IComparable> key = column switch
        {
            "address" => e => e.Address,
            "role" => e => e.Role,
            "slashed" => e => Fmt.TokenValue(e.Slashed),
            "accepted" => e => e.Accepted,
            "rejected" => e => e.Rejected,
            "revealed" => e => e.Revealed,
            "missed" => e => e.Missed,
            "agreement" => e => e.AgreementPpm ?? 0,
            "rewards" => e => Fmt.TokenValue(e.Rewards),
            _ => throw new ArgumentException($"sort: unknown column '{column}'", nameof(column)),
        };
        var ordered = descending ? rows.OrderByDescending(key) : rows.OrderBy(key);
        return ordered.ThenBy(e => e.Address, StringComparer.Ordinal).ThenBy(e => e.Role, StringComparer.Ordinal).ToArray();
    }
}
