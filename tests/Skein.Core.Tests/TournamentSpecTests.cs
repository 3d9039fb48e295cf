namespace Skein.Core.Tests;

public sealed class TournamentSpecTests
{
    private static readonly string Base = new('a', 64);

    private static readonly string Valid = $$"""
        {
          "name": "sotu-tournament",
          "mode": "tournament",
          "tournament": { "submissions_per_trainer": 2, "decay": 0.5, "side_floor": 0.2, "copy_threshold": 0.99 },
          "model": { "name": "transformer-tiny", "base": "{{Base}}", "adapter": { "rank": 4, "alpha": 8 } },
          "data": { "dataset": "sotu" },
          "training": { "batch_size": 16, "lr": 0.003, "steps": 40 },
          "validation": { "score": "bpc" },
          "rounds": 2,
          "reward_pool": "80"
        }
        """;

    [Fact]
    public void A_tournament_spec_parses_without_trainers_per_round_and_gives_the_ledger_its_rules_in_basis_points()
    {
        var spec = TaskSpec.Parse(Valid);
        Assert.True(spec.IsTournament);
        Assert.Equal(2u, spec.Tournament!.SubmissionsPerTrainer);
        Assert.Equal((5_000u, 2_000u), (spec.Tournament.DecayBps, spec.Tournament.SideFloorBps));
        Assert.Equal(0.99, spec.Tournament.CopyThreshold);
    }

    [Fact]
    public void The_tournament_rules_are_part_of_the_hash_and_a_federated_spec_keeps_its_hash()
    {
        var spec = TaskSpec.Parse(Valid);
        Assert.NotEqual(spec.Sha256(), TaskSpec.Parse(Valid.Replace("\"decay\": 0.5", "\"decay\": 0.6", StringComparison.Ordinal)).Sha256());
        var federated = TaskSpec.Parse(Valid.Replace("\"mode\": \"tournament\",", "", StringComparison.Ordinal)
            .Replace("\"tournament\": { \"submissions_per_trainer\": 2, \"decay\": 0.5, \"side_floor\": 0.2, \"copy_threshold\": 0.99 },", "\"trainers_per_round\": 3,", StringComparison.Ordinal));
        Assert.False(federated.IsTournament);
        // Unset mode and tournament are not written, so specs from before tournaments hash as they did.
        using var written = System.Text.Json.JsonDocument.Parse(System.Text.Json.JsonSerializer.Serialize(federated, TaskSpec.JsonOptions));
        Assert.False(written.RootElement.TryGetProperty("mode", out _));
        Assert.False(written.RootElement.TryGetProperty("tournament", out _));
    }

    [Theory]
    [InlineData("\"mode\": \"tournament\"", "\"mode\": \"league\"", "mode: must be federated or tournament; got 'league'")]
    [InlineData("\"submissions_per_trainer\": 2", "\"submissions_per_trainer\": 0", "tournament.submissions_per_trainer: must be in [1, 16], got 0")]
    [InlineData("\"decay\": 0.5", "\"decay\": 1.5", "tournament.decay: must be in (0, 1]")]
    [InlineData("\"side_floor\": 0.2", "\"side_floor\": 0.6", "tournament.side_floor: must be in [0, 0.5], got 0.6")]
    [InlineData("\"copy_threshold\": 0.99", "\"copy_threshold\": 0", "tournament.copy_threshold: must be in (0, 1], got 0")]
    [InlineData("\"tournament\": { \"submissions_per_trainer\": 2, \"decay\": 0.5, \"side_floor\": 0.2, \"copy_threshold\": 0.99 },", "", "tournament: is required with \"mode\": \"tournament\"")]
    public void Malformed_tournaments_name_the_field_and_the_rule(string find, string replace, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => TaskSpec.Parse(Valid.Replace(find, replace, StringComparison.Ordinal)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vision_task_cannot_be_a_tournament_and_a_federated_task_has_no_tournament_rules()
    {
        var vision = """
            { "name": "t", "mode": "tournament", "tournament": {}, "model": "2nn", "rounds": 1, "reward_pool": "1" }
            """;
        Assert.Contains("mode: a tournament's trainers submit adapters on a base", Assert.Throws<FormatException>(() => TaskSpec.Parse(vision)).Message, StringComparison.Ordinal);
        var stray = """
            { "name": "t", "tournament": {}, "model": "2nn", "rounds": 1, "trainers_per_round": 2, "reward_pool": "1" }
            """;
        Assert.Contains("tournament: applies only with \"mode\": \"tournament\"", Assert.Throws<FormatException>(() => TaskSpec.Parse(stray)).Message, StringComparison.Ordinal);
    }
}
