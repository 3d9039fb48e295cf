using System.Diagnostics;
using System.Globalization;
using Skein.Ledger;
using Skein.Ledger.Transactions;

namespace Skein.Console.Bench;

/// <summary>
/// The rounds of the history, three blocks each as the round engine spaces them: updates and the close of training;
/// score commitments and the close of commits; reveals, settlement and the next round's opening.
/// </summary>
public sealed partial class LongHistoryGenerator
{
    private readonly List<(string Validator, ulong[] Scores, Hash32 Salt)> _reveals = [];

    /// <summary>Runs every round to settlement and leaves one more open in training; returns the trainer with the most updates and the validator picked most.</summary>
    private async Task<(string Trainer, string Validator)> RoundsAsync(ulong taskId, CancellationToken ct)
    {
        // Each validator scores with its own noise, so the leaderboard's agreement column has something to rank.
        var noise = _validators.ToDictionary(v => v, _ => 0.002 + (0.02 * _rng.NextDouble()));
        var updates = _trainers.ToDictionary(t => t, _ => 0);
        var picks = _validators.ToDictionary(v => v, _ => 0);
        var model = Hash("model", 0);
        var clock = Stopwatch.StartNew();
        var total = (uint)_options.Rounds;
        for (uint r = 1; r <= total + 1; r++)
        {
            var open = new List<(string, Func<Address, ulong, Transaction>)>();
            if (r > 1)
            {
                model = Settle(open, taskId, r - 1);
            }
            var modelHash = model;
            open.Add(("coordinator", (f, n) => new OpenRound { From = f, Nonce = n, TaskId = taskId, Round = r, ModelHash = modelHash }));
            await BlockAsync(3_000 + _rng.NextInt(5_000), open, ct);
            var round = (await _ledger.GetRoundAsync(taskId, r, ct))!;

            // Training: most picked trainers submit; a few are noisy (their updates are often rejected).
            var quality = new List<double>();
            var training = new List<(string, Func<Address, ulong, Transaction>)>();
            foreach (var trainer in round.PickedTrainers.Select(a => _names[a]))
            {
                if (r > 2 && _rng.NextDouble() < 0.02)
                {
                    continue;
                }
                var bad = (r == 2 && quality.Count == 0) || _rng.NextDouble() < (Index(trainer) % 10 == 7 ? 0.15 : 0.01);
                quality.Add(bad ? 0.05 + (0.25 * _rng.NextDouble()) : 0.55 + (0.4 * _rng.NextDouble()));
                updates[trainer]++;
                var hash = Hash("update", r, Index(trainer));
                var samples = (ulong)(200 + _rng.NextInt(1_000));
                training.Add((trainer, (f, n) => new SubmitUpdate { From = f, Nonce = n, TaskId = taskId, Round = r, UpdateHash = hash, Samples = samples }));
            }
            if (r == total + 1)
            {
                // The open round: some updates are in, the coordinator waits for the rest.
                await BlockAsync(20_000, training.Take(Math.Max(1, training.Count / 2)).ToArray(), ct);
                break;
            }
            if (r == (total / 2) + 1)
            {
                training.Add(Withdrawal());
            }
            if (r == total - 1)
            {
                // Near the end, some stake starts unbonding: account pages show it on its way back.
                training.Add((_trainers[0], (f, n) => new Unstake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(50) }));
                training.Add((_delegators[0], (f, n) => new UndelegateStake { From = f, Nonce = n, Operator = _keys[_validators[0]].Address, Role = Role.Validator, Amount = Tokens.Whole(100) }));
            }
            training.Add(("coordinator", (f, n) => new CloseTraining { From = f, Nonce = n, TaskId = taskId, Round = r }));
            await BlockAsync(20_000 + _rng.NextInt(25_000), training, ct);

            // Commits: a validator now and then misses the phase, and one in a few hundred commits without revealing (slashed).
            var commits = new List<(string, Func<Address, ulong, Transaction>)>();
            _reveals.Clear();
            var validators = round.PickedValidators.Select(a => _names[a]).ToArray();
            for (var i = 0; i < validators.Length; i++)
            {
                var v = validators[i];
                picks[v]++;
                if (r > 3 && i > 0 && _rng.NextDouble() < 0.01)
                {
                    continue;
                }
                var scores = quality.Select(q => (ulong)Math.Round(Math.Clamp(q + (noise[v] * _rng.NextGaussian()), 0, 1) * 1_000_000)).ToArray();
                var salt = Hash("salt", r, Index(v));
                var commitment = SignedTransaction.ScoreCommitment(taskId, r, _keys[v].Address, scores, salt);
                commits.Add((v, (f, n) => new CommitScores { From = f, Nonce = n, TaskId = taskId, Round = r, Commitment = commitment }));
                var withholds = i == 0 && (r == 3 || (r > 3 && _rng.NextDouble() < 0.005));
                if (!withholds)
                {
                    _reveals.Add((v, scores, salt));
                }
            }
            commits.Add(("coordinator", (f, n) => new CloseCommits { From = f, Nonce = n, TaskId = taskId, Round = r }));
            await BlockAsync(3_000 + _rng.NextInt(5_000), commits, ct);

            if (r % Math.Max(1, total / 10) == 0)
            {
                _progress(string.Create(CultureInfo.InvariantCulture, $"  round {r:N0}/{total:N0}: {_transactions:N0} transactions in {_blocks:N0} blocks, {clock.Elapsed.TotalSeconds:0.0} s"));
            }
        }
        return (updates.MaxBy(kv => kv.Value).Key, picks.MaxBy(kv => kv.Value).Key);
    }

    /// <summary>Adds the reveals of round <paramref name="r"/> and its settlement to a block; returns the round's new model.</summary>
    private Hash32 Settle(List<(string, Func<Address, ulong, Transaction>)> block, ulong taskId, uint r)
    {
        foreach (var (v, scores, salt) in _reveals)
        {
            block.Add((v, (f, n) => new RevealScores { From = f, Nonce = n, TaskId = taskId, Round = r, Scores = scores, Salt = salt }));
        }
        var model = Hash("model", r);
        block.Add(("coordinator", (f, n) => new FinalizeRound { From = f, Nonce = n, TaskId = taskId, Round = r, NewModelHash = model }));
        return model;
    }
}
