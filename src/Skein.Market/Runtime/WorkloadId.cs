using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Skein.Market.Runtime;

/// <summary>Workload ids: unique per lease, service and instance, and safe as a folder, cgroup and container name.</summary>
public static partial class WorkloadId
{
    /// <summary>Docker's container-name rule, which also keeps ids safe as a single path segment.</summary>
    private const int MaxLength = 128;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex Valid();

    [GeneratedRegex("[^a-z0-9_.-]+", RegexOptions.CultureInvariant)]
    private static partial Regex Unsafe();

    /// <summary>The id of instance <paramref name="instance"/> of <paramref name="service"/> in lease owner/dseq/gseq/oseq, e.g. "0xab12-12-1-1-web-0".</summary>
    public static string Create(string owner, ulong dseq, uint gseq, uint oseq, string service, int instance)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentException.ThrowIfNullOrEmpty(service);
        ArgumentOutOfRangeException.ThrowIfNegative(instance);
        var raw = string.Create(CultureInfo.InvariantCulture, $"{owner}-{dseq}-{gseq}-{oseq}-{service}-{instance}");
        var safe = Unsafe().Replace(raw.ToLowerInvariant(), "-").Trim('-', '.', '_');
        if (safe.Length <= MaxLength && safe == raw)
        {
            return safe;
        }

        // Sanitizing or shortening can make two leases collide; a hash of the original keeps them apart.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(raw)))[..12];
        var room = MaxLength - hash.Length - 1;
        return (safe.Length > room ? safe[..room] : safe) + "-" + hash;
    }

    /// <summary>True when <paramref name="id"/> is a letter or digit followed by up to 127 letters, digits, '.', '_' or '-'.</summary>
    public static bool IsValid(string? id) => id is not null && Valid().IsMatch(id);

    /// <summary>Throws when <paramref name="id"/> is not a valid workload id (it would be a path, cgroup and container name).</summary>
    public static void Validate(string id)
    {
        if (!IsValid(id))
        {
            throw new ArgumentException($"workload id '{id}' must be 1-128 letters, digits, '.', '_' or '-' and start with a letter or digit", nameof(id));
        }
    }
}
