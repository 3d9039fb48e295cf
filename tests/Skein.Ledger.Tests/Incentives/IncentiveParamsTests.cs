using Skein.Ledger.Incentives;

namespace Skein.Ledger.Tests.Incentives;

/// <summary>Parameter validation names the offending field.</summary>
public sealed class IncentiveParamsTests
{
    private static readonly IncentiveParams P = IncentiveParams.Default;

    [Fact]
    public void Defaults_are_the_documented_ones_and_valid()
    {
        Assert.Equal(new IncentiveParams(7000, 6667, 20_000, 1000, 500, Tokens.Whole(10), 1000), P);
        Assert.Null(P.Validate());
        Assert.Null((P with { TrainerShareBps = 0, SupermajorityBps = 10_000, TrainerSlashBps = 10_000, ValidatorNoRevealSlashBps = 0, EmissionPerRound = 0 }).Validate());
        Assert.Null((P with { TrainerShareBps = 10_000, SupermajorityBps = 5001, AgreementTolerance = 1, HalvingRounds = ulong.MaxValue }).Validate());
    }

    [Fact]
    public void Errors_name_the_field_the_rule_and_the_value()
    {
        Assert.Equal("params.trainer_share_bps: must be <= 10000, got 12000", (P with { TrainerShareBps = 12_000 }).Validate());
        Assert.Equal("params.supermajority_bps: must be in 5001..10000, got 5000", (P with { SupermajorityBps = 5000 }).Validate());
        Assert.Equal("params.supermajority_bps: must be in 5001..10000, got 10001", (P with { SupermajorityBps = 10_001 }).Validate());
        Assert.Equal("params.agreement_tolerance: must be >= 1, got 0", (P with { AgreementTolerance = 0 }).Validate());
        Assert.Equal("params.trainer_slash_bps: must be <= 10000, got 10001", (P with { TrainerSlashBps = 10_001 }).Validate());
        Assert.Equal("params.validator_no_reveal_slash_bps: must be <= 10000, got 20000", (P with { ValidatorNoRevealSlashBps = 20_000 }).Validate());
        Assert.Equal("params.halving_rounds: must be >= 1, got 0", (P with { HalvingRounds = 0 }).Validate());
    }
}
