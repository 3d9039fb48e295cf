using Skein.Core;
using Skein.Ledger.Governance;
using Skein.Ledger.State;
using Skein.Ledger.Tests.Rules;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Governance;

/// <summary>
/// Seeded random chains: stakes and delegations, a proposal, stake moved after it started, random votes. The tally
/// must equal an independent count over the stakes as they were at the start, and supply must be conserved.
/// </summary>
public sealed class GovernancePropertyTests
{
    private static readonly string[] Names = ["a", "b", "c", "d", "e", "f", "g", "h"];

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(4UL)]
    public void The_tally_is_the_start_snapshot_of_the_voters_whatever_moves_after(ulong seed)
    {
        for (var trial = 0; trial < 25; trial++)
        {
            var rng = DeterministicRandom.Derive(seed, "governance/property", (uint)trial);
            var c = new TestChain(LedgerParams.Default with { UnbondingBlocks = 2, Governance = GovernanceParams.Default with { VotingPeriodBlocks = 40 } }, Names);
            Shuffle(c, rng, 10);
            if (c.State.Stakes.Values.All(s => s.Self == 0) && c.State.Delegations.Count == 0)
            {
                c.Do("a", (f, n) => new Stake { From = f, Nonce = n, Role = Role.Trainer, Amount = Tokens.Whole(5) });
            }
            // The independent record of who held what when the proposal starts.
            var own = new Dictionary<Address, UInt128>();
            foreach (var ((address, _), stake) in c.State.Stakes)
            {
                own[address] = own.GetValueOrDefault(address) + stake.Self;
            }
            var delegated = c.State.Delegations.Select(d => (d.Key.Delegator, d.Key.Operator, d.Value)).ToList();
            c.Do("h", (f, n) => new SubmitProposal { From = f, Nonce = n, Kind = ProposalKind.ParameterChange, Parameter = "governance.quorum_bps", Value = 2_000, Deposit = Tokens.Whole(10) });
            var id = c.State.NextProposalId - 1;

            Shuffle(c, rng, 6);
            var votes = new Dictionary<Address, VoteOption>();
            foreach (var name in Names)
            {
                if (rng.NextInt(3) == 0)
                {
                    continue;
                }
                var option = (VoteOption)(1 + rng.NextInt(4));
                var address = c[name];
                var hadPower = own.GetValueOrDefault(address) > 0 || delegated.Any(d => d.Delegator == address || d.Operator == address);
                if (hadPower)
                {
                    c.Do(name, (f, n) => new VoteProposal { From = f, Nonce = n, ProposalId = id, Option = option });
                    votes[address] = option;
                }
                else
                {
                    c.Refused(LedgerError.NoVotingPower, name, (f, n) => new VoteProposal { From = f, Nonce = n, ProposalId = id, Option = option });
                }
                Shuffle(c, rng, 1);
            }
            var proposal = c.State.Proposals[id];
            for (var i = 0; proposal.Status == ProposalStatus.Voting && i < 50; i++)
            {
                c.NextBlock();
                Assert.True(c.State.SupplyIsConserved(), $"seed {seed} trial {trial}: supply");
            }
            Assert.NotEqual(ProposalStatus.Voting, proposal.Status);

            var expected = new UInt128[5];
            foreach (var (address, amount) in own)
            {
                if (votes.TryGetValue(address, out var o))
                {
                    expected[(int)o] += amount;
                }
            }
            foreach (var (delegator, operatorAddress, amount) in delegated)
            {
                if (votes.TryGetValue(delegator, out var o) || votes.TryGetValue(operatorAddress, out o))
                {
                    expected[(int)o] += amount;
                }
            }
            var tally = proposal.Tally!;
            var total = own.Values.Aggregate(UInt128.Zero, (a, b) => a + b) + delegated.Aggregate(UInt128.Zero, (a, d) => a + d.Value);
            Assert.Equal((expected[1], expected[2], expected[3], expected[4], total), (tally.Yes, tally.Abstain, tally.No, tally.NoWithVeto, tally.TotalPower));
            Assert.True(tally.Voted <= tally.TotalPower);
            Assert.Equal(proposal.Status == ProposalStatus.Passed, c.State.Params.GovernanceRules.QuorumBps == 2_000);
            Assert.True(c.State.SupplyIsConserved(), $"seed {seed} trial {trial}: supply at the end");
        }
    }

    /// <summary>Random stake, unstake, delegate and undelegate moves (each within what the account holds).</summary>
    private static void Shuffle(TestChain c, DeterministicRandom rng, int moves)
    {
        for (var m = 0; m < moves; m++)
        {
            var who = Names[rng.NextInt(Names.Length - 1)];
            var address = c[who];
            var role = rng.NextInt(2) == 0 ? Role.Trainer : Role.Validator;
            var amount = Tokens.Whole((ulong)(1 + rng.NextInt(50)));
            switch (rng.NextInt(4))
            {
                case 0:
                    c.Do(who, (f, n) => new Stake { From = f, Nonce = n, Role = role, Amount = amount });
                    break;
                case 1 when c.State.StakeOf(address, role).Self > 0:
                    {
                        var own = c.State.StakeOf(address, role).Self;
                        c.Do(who, (f, n) => new Unstake { From = f, Nonce = n, Role = role, Amount = own < amount ? own : amount });
                        break;
                    }
                case 2:
                    {
                        var target = Names[rng.NextInt(Names.Length - 1)];
                        if (target != who)
                        {
                            c.Do(who, (f, n) => new DelegateStake { From = f, Nonce = n, Operator = c[target], Role = role, Amount = amount });
                        }
                        break;
                    }
                case 3:
                    {
                        var held = c.State.Delegations.Where(d => d.Key.Delegator == address).ToArray();
                        if (held.Length > 0)
                        {
                            var (key, value) = held[rng.NextInt(held.Length)];
                            c.Do(who, (f, n) => new UndelegateStake { From = f, Nonce = n, Operator = key.Operator, Role = key.Role, Amount = value < amount ? value : amount });
                        }
                        break;
                    }
            }
            if (rng.NextInt(3) == 0)
            {
                c.NextBlock();
            }
        }
    }
}
