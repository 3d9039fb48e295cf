namespace Skein.Market.Akash;

/// <summary>Deployment settings (auto top-up), the v2 routes of apps/api/src/deployment/routes/deployment-setting/deployment-setting.router.ts.</summary>
/// <remarks>The v2 routes default the user to the API key's owner; the v1 routes need a Console user id in the path, which an API key user does not know.</remarks>
public sealed partial class AkashConsoleClient
{
    /// <summary><c>GET /v2/deployment-settings/{dseq}</c>: the settings, created with auto top-up off if there were none.</summary>
    public Task<AkashDeploymentSetting> GetDeploymentSettingAsync(string dseq, CancellationToken ct = default) =>
        GetAsync($"v2/deployment-settings/{Dseq(dseq)}", AkashJsonContext.Default.AkashEnvelopeAkashDeploymentSetting, ct);

    /// <summary><c>POST /v2/deployment-settings</c> with <c>{"data": {"dseq", "autoTopUpEnabled"}}</c>; 201.</summary>
    public Task<AkashDeploymentSetting> CreateDeploymentSettingAsync(string dseq, bool autoTopUpEnabled, CancellationToken ct = default) =>
        SendAsync(
            HttpMethod.Post, "v2/deployment-settings", new CreateDeploymentSettingRequest(new CreateDeploymentSettingData(Dseq(dseq), autoTopUpEnabled)),
            AkashJsonContext.Default.CreateDeploymentSettingRequest, AkashJsonContext.Default.AkashEnvelopeAkashDeploymentSetting, ct);

    /// <summary><c>PATCH /v2/deployment-settings/{dseq}</c> with <c>{"data": {"autoTopUpEnabled"}}</c>: turns auto top-up on or off (created if missing).</summary>
    public Task<AkashDeploymentSetting> UpdateDeploymentSettingAsync(string dseq, bool autoTopUpEnabled, CancellationToken ct = default) =>
        SendAsync(
            HttpMethod.Patch, $"v2/deployment-settings/{Dseq(dseq)}", new UpdateDeploymentSettingRequest(new UpdateDeploymentSettingData(autoTopUpEnabled)),
            AkashJsonContext.Default.UpdateDeploymentSettingRequest, AkashJsonContext.Default.AkashEnvelopeAkashDeploymentSetting, ct);
}
