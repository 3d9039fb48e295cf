namespace Skein.Market.Akash;

/// <summary>Bids and leases: apps/api/src/bid/routes/bids/bids.router.ts and apps/api/src/deployment/routes/leases/leases.router.ts.</summary>
public sealed partial class AkashConsoleClient
{
    /// <summary><c>GET /v1/bids?dseq=</c>: the deployment's bids, each with its bid escrow.</summary>
    /// <remarks>
    /// Console filters this list (bid.service.ts): only providers signed by its allowed auditors
    /// (MANAGED_WALLET_LEASE_ALLOWED_AUDITORS), and for trial accounts no blocked GPU models. A bid the chain has
    /// may therefore never show here, and the API does not say so.
    /// </remarks>
    public async Task<IReadOnlyList<AkashBidEntry>> GetBidsAsync(string dseq, CancellationToken ct = default) =>
        await GetAsync($"v1/bids?dseq={Dseq(dseq)}", AkashJsonContext.Default.AkashEnvelopeListAkashBidEntry, ct);

    /// <summary><c>POST /v1/leases</c> with <c>{"manifest", "leases": [{"dseq", "gseq", "oseq", "provider"}]}</c>: creates the leases and sends the manifest to each provider.</summary>
    /// <remarks>Unlike the other POSTs the body is not wrapped in "data" (CreateLeaseRequestSchema in lease.schema.ts). The API skips creating leases that already exist, so repeating the call after a manifest failure resends the manifest.</remarks>
    public Task<AkashDeploymentDetails> CreateLeaseAsync(string manifest, IReadOnlyList<AkashBidId> bids, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(manifest);
        ArgumentNullException.ThrowIfNull(bids);
        if (bids.Count == 0)
        {
            throw new ArgumentException("A lease needs at least one chosen bid.", nameof(bids));
        }

        var targets = bids.Select(b => new CreateLeaseTarget(Dseq(b.Dseq, nameof(bids)), b.Gseq, b.Oseq, b.Provider)).ToList();
        return SendAsync(
            HttpMethod.Post, "v1/leases", new CreateLeaseRequest(manifest, targets),
            AkashJsonContext.Default.CreateLeaseRequest, AkashJsonContext.Default.AkashEnvelopeAkashDeploymentDetails, ct);
    }
}
