using CsCheck;
using Skein.Ledger.Incentives;
using static Skein.Ledger.Tests.Incentives.Fixtures;

namespace Skein.Ledger.Tests.Incentives;

/// <summary>Splitting a role stake's rewards and slashes between the operator and its delegators.</summary>
public sealed class StakeSplitTests
{
    private static readonly Address Op = A(0x01), D1 = A(0x31), D2 = A(0x32), D3 = A(0x33);

    private static readonly Gen<UInt128> Amount = Gen.Frequency(
        (1, (IGen<UInt128>)Gen.Const(UInt128.Zero)),
        (3, Gen.UInt128[1, 1000]),
        (3, Gen.UInt128[1, UInt128.One << 120]));

    private static readonly Gen<(Address, UInt128)[]> Delegations =
        Amount.Array[0, 6].Select(xs => xs.Select((x, i) => (A(0x40, (byte)i), x)).ToArray());

    [Fact]
    public void Reward_parts_sum_to_the_reward_operator_first()
    {
        Gen.Select(Amount, Amount, Gen.UInt[0, 10_000], Delegations).Sample((reward, self, commission, delegations) =>
        {
            var parts = StakeSplit.Reward(reward, Op, self, commission, delegations);
            Assert.Equal(reward, Sum(parts.Select(p => p.Amount)));
            Assert.Equal(Op, parts[0].Account);
            Assert.All(parts.Skip(1), p => Assert.NotEqual(UInt128.Zero, p.Amount));
            // Delegators appear in the given order, each at most its pro-rata share of the reward.
            var delegated = Sum(delegations.Select(d => d.Item2));
            var total = self + delegated;
            var expected = delegations.Where(d => total > 0 && Tokens.MulDiv(reward, d.Item2, total) > 0).Select(d => d.Item1);
            Assert.True(parts.Skip(1).Select(p => p.Account).SequenceEqual(expected.Where(a => parts.Any(p => p.Account == a))));
            foreach (var (account, amount) in parts.Skip(1))
            {
                var held = delegations.Single(d => d.Item1 == account).Item2;
                Assert.True(amount <= Tokens.MulDiv(reward, held, total));
            }
        });
    }

    [Fact]
    public void Reward_with_zero_commission_is_pro_rata()
    {
        var parts = StakeSplit.Reward(Tok(100), Op, Tok(50), 0, [(D1, Tok(30)), (D2, Tok(20))]);
        Assert.Equal([(Op, Tok(50)), (D1, Tok(30)), (D2, Tok(20))], parts);
    }

    [Fact]
    public void Reward_with_full_commission_goes_to_the_operator()
    {
        var parts = StakeSplit.Reward(Tok(100), Op, Tok(50), 10_000, [(D1, Tok(30)), (D2, Tok(20))]);
        Assert.Equal([(Op, Tok(100))], parts);
    }

    [Fact]
    public void Reward_dust_goes_to_the_operator_and_zero_parts_are_left_out()
    {
        // 10 units, stakes 1/1/1/0: delegatorsPart = floor(10*2/3) = 6, commission 10% = 0, each delegator 3.
        var parts = StakeSplit.Reward(10, Op, 1, 1000, [(D1, 1), (D2, 1), (D3, 0)]);
        Assert.Equal([(Op, (UInt128)4), (D1, (UInt128)3), (D2, (UInt128)3)], parts);
        // Commission on 6 at 50% is 3; the 3 left split 1/1, and the unit of dust goes to the operator.
        Assert.Equal([(Op, (UInt128)8), (D1, UInt128.One), (D2, UInt128.One)], StakeSplit.Reward(10, Op, 1, 5000, [(D1, 1), (D2, 1)]));
    }

    [Fact]
    public void Reward_without_stake_or_delegations_goes_to_the_operator()
    {
        Assert.Equal([(Op, Tok(7))], StakeSplit.Reward(Tok(7), Op, 0, 500, []));
        Assert.Equal([(Op, Tok(7))], StakeSplit.Reward(Tok(7), Op, 0, 500, [(D1, 0)]));
        Assert.Equal([(Op, Tok(7))], StakeSplit.Reward(Tok(7), Op, Tok(1), 500, [(D1, 0)]));
        Assert.Equal([(Op, Tok(7))], StakeSplit.Reward(Tok(7), Op, Tok(1), 500, []));
        // Only delegated stake, no commission: all to the delegator.
        Assert.Equal([(Op, UInt128.Zero), (D1, Tok(7))], StakeSplit.Reward(Tok(7), Op, 0, 0, [(D1, Tok(3))]));
        Assert.Throws<ArgumentOutOfRangeException>(() => StakeSplit.Reward(1, Op, 1, 10_001, []));
    }

    [Fact]
    public void Slash_parts_sum_to_the_capped_amount_and_never_exceed_a_holding()
    {
        Gen.Select(Amount, Amount, Delegations).Sample((slash, self, delegations) =>
        {
            var (fromSelf, fromDelegations) = StakeSplit.Slash(slash, self, delegations);
            var total = self + Sum(delegations.Select(d => d.Item2));
            Assert.Equal(UInt128.Min(slash, total), fromSelf + Sum(fromDelegations.Select(d => d.Amount)));
            Assert.True(fromSelf <= self);
            Assert.Equal(delegations.Length, fromDelegations.Count);
            for (var i = 0; i < delegations.Length; i++)
            {
                Assert.Equal(delegations[i].Item1, fromDelegations[i].Delegator);
                Assert.True(fromDelegations[i].Amount <= delegations[i].Item2);
                // Pro rata, give or take the floor dust that self stake could not absorb.
                var proRata = total == 0 ? 0 : Tokens.MulDiv(UInt128.Min(slash, total), delegations[i].Item2, total);
                Assert.True(fromDelegations[i].Amount >= proRata);
                Assert.True(fromDelegations[i].Amount - proRata <= (UInt128)delegations.Length);
            }
        });
    }

    [Fact]
    public void Slash_is_pro_rata_with_dust_from_self()
    {
        // 10 of 3/3/3 (total 9): capped at 9, all of it.
        var (self, dels) = StakeSplit.Slash(10, 3, [(D1, 3), (D2, 3)]);
        Assert.Equal((UInt128)3, self);
        Assert.Equal([(D1, (UInt128)3), (D2, (UInt128)3)], dels);
        // 5 of 3/3/3: floor(5*3/9) = 1 from each delegation, 3 from self.
        (self, dels) = StakeSplit.Slash(5, 3, [(D1, 3), (D2, 3)]);
        Assert.Equal((UInt128)3, self);
        Assert.Equal([(D1, (UInt128)1), (D2, (UInt128)1)], dels);
    }

    [Fact]
    public void Slash_takes_dust_from_delegations_in_order_when_self_stake_is_short()
    {
        // 2 of 0/1/1/1 (total 3): floor(2/3) = 0 each, self has nothing, so 1 each from the first two.
        var (self, dels) = StakeSplit.Slash(2, 0, [(D1, 1), (D2, 1), (D3, 1)]);
        Assert.Equal(UInt128.Zero, self);
        Assert.Equal([(D1, (UInt128)1), (D2, (UInt128)1), (D3, UInt128.Zero)], dels);
        // 3 of 1/1/1/1 (total 4): 0 from each by floor, self gives its 1, then 1 each from D1 and D2.
        (self, dels) = StakeSplit.Slash(3, 1, [(D1, 1), (D2, 1), (D3, 1)]);
        Assert.Equal(UInt128.One, self);
        Assert.Equal([(D1, (UInt128)1), (D2, (UInt128)1), (D3, UInt128.Zero)], dels);
    }

    [Fact]
    public void Slash_of_nothing_or_of_no_stake_takes_nothing()
    {
        var (self, dels) = StakeSplit.Slash(0, 5, [(D1, 5)]);
        Assert.Equal(UInt128.Zero, self);
        Assert.Equal([(D1, UInt128.Zero)], dels);
        (self, dels) = StakeSplit.Slash(5, 0, [(D1, 0)]);
        Assert.Equal(UInt128.Zero, self);
        Assert.Equal([(D1, UInt128.Zero)], dels);
    }
}
