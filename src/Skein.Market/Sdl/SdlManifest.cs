using System.Security.Cryptography;
using System.Text;
using Skein.Ledger;

namespace Skein.Market.Sdl;

/// <summary>
/// The manifest a tenant sends the provider of a lease: Akash's manifest (groups, then services with image,
/// command, args, env, resources, count, exposes and params) as canonical JSON, and its SHA-256, which is the
/// deployment's version on the ledger. The JSON follows Akash's field names and sorted-key form, so for the SDLs
/// covered by the tests the hash equals the version Akash computes.
/// </summary>
/// <remarks>
/// The manifest holds every environment value and registry credential of the SDL, secrets included (a node's key
/// file and password): it is sent only to the lease's provider and never written to the ledger, which records the
/// hash alone.
/// </remarks>
public sealed record SdlManifest(string Json, Hash32 Hash)
{
    /// <summary>The SHA-256 of <paramref name="json"/> as UTF-8.</summary>
    public static SdlManifest FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return new SdlManifest(json, new Hash32(SHA256.HashData(Encoding.UTF8.GetBytes(json))));
    }
}
