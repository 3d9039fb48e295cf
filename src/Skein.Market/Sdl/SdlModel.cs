using Skein.Ledger.Market;

namespace Skein.Market.Sdl;

/// <summary>A service of an SDL: the container image, its command line, environment, exposed ports and volume mounts.</summary>
/// <remarks>
/// <see cref="Env"/> holds every value as written, secrets included: the manifest built from it goes only to the
/// provider of the lease, never onto the ledger.
/// </remarks>
public sealed record SdlService(
    string Name,
    string Image,
    IReadOnlyList<string>? Command,
    IReadOnlyList<string>? Args,
    IReadOnlyList<string>? Env,
    IReadOnlyList<SdlExpose> Expose,
    IReadOnlyDictionary<string, SdlVolumeMount> Storage,
    IReadOnlyList<string> Dependencies,
    SdlCredentials? Credentials,
    SdlServiceParams? Params);

/// <summary>The <c>params</c> of a service as written (storage mounts live in <see cref="SdlService.Storage"/>): log and event permissions, and a TEE type.</summary>
public sealed record SdlServiceParams(IReadOnlyList<string>? PermissionsRead, string? Tee);

/// <summary>A port a service exposes: container port, external port (<c>as</c>, 0 when unset), protocol, accepted hostnames and destinations.</summary>
public sealed record SdlExpose(uint Port, uint As, string Proto, IReadOnlyList<string> Accept, IReadOnlyList<SdlExposeTo> To, SdlHttpOptions HttpOptions);

/// <summary>Who may reach an exposed port: the internet (<c>global</c>), another service of the deployment, and an IP endpoint.</summary>
public sealed record SdlExposeTo(string? Service, bool Global, string? Ip);

/// <summary>The HTTP proxy options of an exposed port, with Akash's defaults filled in.</summary>
public sealed record SdlHttpOptions(uint MaxBodySize, uint ReadTimeout, uint SendTimeout, uint NextTries, uint NextTimeout, IReadOnlyList<string> NextCases, uint ProxyBufferSize)
{
    public static SdlHttpOptions Default { get; } = new(1_048_576, 60_000, 60_000, 3, 0, ["error", "timeout"], 0);
}

/// <summary>Where a service mounts a volume of its compute profile, and whether read-only.</summary>
public sealed record SdlVolumeMount(string Mount, bool ReadOnly);

/// <summary>Credentials for a private image registry (they go into the manifest, never onto the ledger).</summary>
public sealed record SdlCredentials(string Host, string Email, string Username, string Password);

/// <summary>A compute profile: the resources of one instance.</summary>
public sealed record SdlComputeProfile(string Name, ulong CpuMillis, string? CpuArch, ulong MemoryBytes, IReadOnlyList<SdlVolume> Storage, SdlGpu Gpu);

/// <summary>A storage volume of a compute profile. <see cref="Class"/> is null for plain ephemeral storage.</summary>
public sealed record SdlVolume(string Name, ulong Bytes, string? Class, bool Persistent, bool HasAttributes)
{
    /// <summary>The class as the market names it: the declared class, or <c>ephemeral</c>.</summary>
    public string MarketClass => Class ?? "ephemeral";
}

/// <summary>The GPUs of a compute profile: how many, and which models are acceptable (one <c>*</c> model for any).</summary>
public sealed record SdlGpu(uint Units, IReadOnlyList<GpuModel> Models)
{
    public static SdlGpu None { get; } = new(0, []);
}

/// <summary>A placement profile: provider attributes and auditors it needs, and the most it pays per block for each compute profile.</summary>
public sealed record SdlPlacement(
    string Name,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<string> SignedByAllOf,
    IReadOnlyList<string> SignedByAnyOf,
    IReadOnlyDictionary<string, DecCoin> Pricing);

/// <summary>One line of <c>deployment</c>: a service placed in a placement with a compute profile and an instance count.</summary>
public sealed record SdlDeployment(string Service, string Placement, string Profile, uint Count);

/// <summary>A named endpoint (<c>endpoints.&lt;name&gt;: {kind: ip}</c>): a leased IP address services can expose ports on.</summary>
public sealed record SdlEndpoint(string Name, string Kind);
