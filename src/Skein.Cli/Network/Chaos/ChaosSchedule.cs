using Skein.Core;

namespace Skein.Cli.Network.Chaos;

/// <summary>One planned SIGKILL: when (from the start of the chaos), whom, and how long it stays down before it is restarted.</summary>
public sealed record ChaosKill(TimeSpan At, string Role, string Victim, TimeSpan Downtime);

/// <summary>The knobs of a kill schedule.</summary>
public sealed record ChaosScheduleOptions
{
    /// <summary>Gap between two kills: uniform in [MinGap, MaxGap].</summary>
    public TimeSpan MinGap { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxGap { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a killed node stays down: uniform in [MinDowntime, MaxDowntime].</summary>
    public TimeSpan MinDowntime { get; init; } = TimeSpan.FromSeconds(0.5);

    public TimeSpan MaxDowntime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Relative weights of the roles a kill picks from (after the first kills, which cover every role once).</summary>
    public double TrainerWeight { get; init; } = 0.45;

    public double ValidatorWeight { get; init; } = 0.3;

    public double CoordinatorWeight { get; init; } = 0.25;
}

/// <summary>
/// A seeded plan of kills: the same seed, length and parties give the same kills at the same moments. The first
/// kills take each role once (in a seeded order), so that even a short run kills a trainer, a validator and the
/// coordinator; a party is only picked while it is up.
/// </summary>
public static class ChaosSchedule
{
    public const string Trainer = "trainer";
    public const string Validator = "validator";
    public const string Coordinator = "coordinator";

    public static IReadOnlyList<ChaosKill> Plan(ulong seed, TimeSpan length, IReadOnlyList<string> trainers, IReadOnlyList<string> validators, ChaosScheduleOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trainers);
        ArgumentNullException.ThrowIfNull(validators);
        var o = options ?? new ChaosScheduleOptions();
        if (o.MinGap <= TimeSpan.Zero || o.MaxGap < o.MinGap || o.MinDowntime < TimeSpan.Zero || o.MaxDowntime < o.MinDowntime)
        {
            throw new ArgumentException("gaps must be positive and downtimes non-negative, each minimum at most its maximum", nameof(options));
        }
        var rng = DeterministicRandom.Derive(seed, "chaos/kills");
        string[] firstRoles = [Trainer, Validator, Coordinator];
        rng.Shuffle(firstRoles.AsSpan());
        var upAgain = new Dictionary<string, TimeSpan>();
        var kills = new List<ChaosKill>();
        var at = TimeSpan.Zero;
        while (true)
        {
            at += Between(rng, o.MinGap, o.MaxGap);
            if (at >= length)
            {
                return kills;
            }
            var role = kills.Count < firstRoles.Length ? firstRoles[kills.Count] : PickRole(rng, o);
            var pool = role switch
            {
                Trainer => trainers,
                Validator => validators,
                _ => [Coordinator],
            };
            var up = pool.Where(p => !upAgain.TryGetValue(p, out var back) || back <= at).ToArray();
            // Drawn even when nobody of that role is up, so that one busy role does not shift every later kill.
            var pick = rng.NextInt(Math.Max(1, up.Length));
            var downtime = Between(rng, o.MinDowntime, o.MaxDowntime);
            if (up.Length == 0)
            {
                continue;
            }
            kills.Add(new ChaosKill(at, role, up[pick], downtime));
            upAgain[up[pick]] = at + downtime;
        }
    }

    private static string PickRole(DeterministicRandom rng, ChaosScheduleOptions o)
    {
        var total = o.TrainerWeight + o.ValidatorWeight + o.CoordinatorWeight;
        var x = rng.NextDouble() * total;
        return x < o.TrainerWeight ? Trainer : x < o.TrainerWeight + o.ValidatorWeight ? Validator : Coordinator;
    }

    private static TimeSpan Between(DeterministicRandom rng, TimeSpan min, TimeSpan max) => min + ((max - min) * rng.NextDouble());
}
