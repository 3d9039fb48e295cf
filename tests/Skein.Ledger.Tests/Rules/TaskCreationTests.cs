using Skein.Core;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Rules;

/// <summary>Every path that publishes a spec (coordinator, <c>skein task create</c>, the console) sends the transaction its mode calls for.</summary>
public sealed class TaskCreationTests
{
    private const string Tournament = """
        {
          "name": "t", "mode": "tournament",
          "tournament": { "submissions_per_trainer": 3, "decay": 0.25, "side_floor": 0.1 },
          "model": { "name": "transformer-tiny", "base": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "adapter": { "rank": 4, "alpha": 8 } },
          "data": { "dataset": "text" }, "training": { "steps": 10 }, "validation": { "score": "bpc" },
          "rounds": 4, "validators_per_round": 2, "reward_pool": "40", "min_stake": "5", "reject_below": 0.3
        }
        """;

    [Fact]
    public void A_tournament_spec_becomes_create_tournament_with_its_rules_in_basis_points()
    {
        var spec = TaskSpec.Parse(Tournament);
        var tx = Assert.IsType<CreateTournament>(TaskCreation.For(spec, TestChain.Key("a").Address, 7));
        Assert.Equal((4u, 3u, 2u, 300_000u, 2_500u, 1_000u), (tx.Windows, tx.SubmissionsPerTrainer, tx.ValidatorsPerRound, tx.RejectBelow, tx.DecayBps, tx.SideFloorBps));
        Assert.Equal(Tokens.Whole(40), tx.RewardPool);
        Assert.Equal(Hash32.Parse(spec.Sha256()), tx.SpecHash);
        Assert.Equal(7UL, tx.Nonce);
    }

    [Fact]
    public void A_federated_spec_stays_create_task()
    {
        var spec = TaskSpec.Parse("""{ "name": "f", "model": "2nn", "rounds": 2, "trainers_per_round": 3, "reward_pool": "1" }""");
        var tx = Assert.IsType<CreateTask>(TaskCreation.For(spec, TestChain.Key("a").Address, 0));
        Assert.Equal((2u, 3u), (tx.Rounds, tx.TrainersPerRound));
    }

    [Fact]
    public void The_tournament_type_is_signed_over_every_rule()
    {
        var spec = TaskSpec.Parse(Tournament);
        var a = (CreateTournament)TaskCreation.For(spec, TestChain.Key("a").Address, 0);
        Assert.NotEqual(a.Digest(1), (a with { DecayBps = a.DecayBps + 1 }).Digest(1));
        Assert.NotEqual(a.Digest(1), (a with { SideFloorBps = a.SideFloorBps + 1 }).Digest(1));
        Assert.NotEqual(a.Digest(1), (a with { SubmissionsPerTrainer = a.SubmissionsPerTrainer + 1 }).Digest(1));
    }
}
