using System.Text;
using System.Text.Json.Serialization;

namespace Skein.Market.Runtime;

/// <summary>Resources a workload asked for: CPU in thousandths of a core, memory and storage in bytes, whole GPUs.</summary>
public sealed record WorkloadResources(ulong CpuMillis, ulong MemoryBytes, ulong StorageBytes, uint Gpus)
{
    /// <summary>Cores to pin a workload to: ceil(CpuMillis / 1000), at least one.</summary>
    [JsonIgnore]
    public int WholeCores => (int)Math.Max(1, Math.Min(int.MaxValue, (CpuMillis + 999) / 1000));
}

/// <summary>
/// One instance of one service of a lease. <see cref="Command"/> replaces the image's entrypoint and <see cref="Args"/>
/// its default arguments, as in Kubernetes and Akash SDL; an empty list keeps the image's own.
/// </summary>
public sealed record WorkloadSpec(
    string Id,
    string Service,
    string Image,
    IReadOnlyList<string> Command,
    IReadOnlyList<string> Args,
    IReadOnlyDictionary<string, string> Env,
    WorkloadResources Resources,
    IReadOnlyDictionary<string, string> Labels)
{
    // A record prints its members when logged or formatted; the env must never print its secrets.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Id = ").Append(Id)
            .Append(", Service = ").Append(Service)
            .Append(", Image = ").Append(Image)
            .Append(", Command = [").AppendJoin(' ', Command).Append(']')
            .Append(", Args = [").AppendJoin(' ', Args).Append(']')
            .Append(", Env = ").Append(SecretFilter.Describe(Env))
            .Append(", Resources = ").Append(Resources)
            .Append(", Labels = ").Append(SecretFilter.Describe(Labels));
        return true;
    }
}
