namespace Skein.Market.Akash;

/// <summary>A deployment's Console settings, i.e. auto top-up (shape: <c>DeploymentSettingSchema</c> in apps/api/src/deployment/http-schemas/deployment-setting.schema.ts).</summary>
public sealed record AkashDeploymentSetting
{
    /// <summary>A UUID (the API schema says <c>z.string().uuid()</c>; packages/http-sdk types it as a number, the schema wins).</summary>
    public string Id { get; init; } = "";

    public string UserId { get; init; } = "";

    public required string Dseq { get; init; }

    public bool AutoTopUpEnabled { get; init; }

    /// <summary>What one top-up deposits, in micro units of the deposit denom (block rate x blocks, draining-deployment.service.ts).</summary>
    public decimal EstimatedTopUpAmount { get; init; }

    /// <summary>How often top-ups run: the look-ahead window (AUTO_TOP_UP_LOOK_AHEAD_WINDOW_IN_H, default 24 h) in milliseconds.</summary>
    public long TopUpFrequencyMs { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }
}
