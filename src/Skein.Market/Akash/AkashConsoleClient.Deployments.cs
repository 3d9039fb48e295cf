namespace Skein.Market.Akash;

/// <summary>Deployments: apps/api/src/deployment/routes/deployments/deployments.router.ts.</summary>
public sealed partial class AkashConsoleClient
{
    /// <summary><c>POST /v1/deployments</c> with <c>{"data": {"sdl", "deposit"}}</c>; 201 with the dseq, the manifest and the create transaction.</summary>
    /// <param name="sdl">The SDL as YAML text; the API parses it and answers 400 "Invalid SDL: ..." when it cannot.</param>
    /// <param name="depositUsd">
    /// The escrow deposit in dollars (the API converts it to micro units of its grant denom, uact on mainnet). FIELD.md
    /// calls it required; the real schema has it optional and deprecated: ignored when the account has managed
    /// deposits (then Console deposits DEPLOYMENT_DEFAULT_DEPOSIT, $0.50, and funds the deployment itself), required
    /// otherwise. Null leaves it out.
    /// </param>
    /// <param name="ct">Cancels the request and any wait between retries.</param>
    public Task<AkashCreatedDeployment> CreateDeploymentAsync(string sdl, decimal? depositUsd, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sdl);
        if (depositUsd is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(depositUsd), depositUsd, "The deposit must be positive.");
        }

        return SendAsync(
            HttpMethod.Post, "v1/deployments", new CreateDeploymentRequest(new CreateDeploymentData(sdl, depositUsd)),
            AkashJsonContext.Default.CreateDeploymentRequest, AkashJsonContext.Default.AkashEnvelopeAkashCreatedDeployment, ct);
    }

    /// <summary><c>GET /v1/deployments/{dseq}</c>: the deployment, its leases with the providers' status, and its escrow account.</summary>
    public Task<AkashDeploymentDetails> GetDeploymentAsync(string dseq, CancellationToken ct = default) =>
        GetAsync($"v1/deployments/{Dseq(dseq)}", AkashJsonContext.Default.AkashEnvelopeAkashDeploymentDetails, ct);

    /// <summary><c>DELETE /v1/deployments/{dseq}</c>: closes the deployment and its leases; the rest of the escrow returns. Closing a closed one succeeds.</summary>
    public async Task<bool> CloseDeploymentAsync(string dseq, CancellationToken ct = default)
    {
        var result = await SendAsync<object?, CloseDeploymentData>(
            HttpMethod.Delete, $"v1/deployments/{Dseq(dseq)}", null, null, AkashJsonContext.Default.AkashEnvelopeCloseDeploymentData, ct);
        return result.Success;
    }

    /// <summary><c>POST /v1/deposit-deployment</c> with <c>{"data": {"dseq", "deposit"}}</c> (dollars); returns the deployment after the deposit.</summary>
    /// <remarks>Deprecated by the API (the route says managed deployments are funded automatically); kept for accounts without managed deposits.</remarks>
    public Task<AkashDeploymentDetails> DepositAsync(string dseq, decimal depositUsd, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(depositUsd);
        return SendAsync(
            HttpMethod.Post, "v1/deposit-deployment", new DepositDeploymentRequest(new DepositDeploymentData(Dseq(dseq), depositUsd)),
            AkashJsonContext.Default.DepositDeploymentRequest, AkashJsonContext.Default.AkashEnvelopeAkashDeploymentDetails, ct);
    }

    /// <summary>The API's DseqSchema is a positive integer; checking here also keeps anything else out of the path.</summary>
    private static string Dseq(string dseq, string? name = "dseq")
    {
        if (string.IsNullOrEmpty(dseq) || dseq.Length > 20 || !dseq.All(char.IsAsciiDigit) || dseq.All(c => c == '0'))
        {
            throw new ArgumentException($"A dseq is a positive decimal integer, not '{dseq}'.", name);
        }

        return dseq;
    }
}
