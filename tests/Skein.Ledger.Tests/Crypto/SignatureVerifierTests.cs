using System.Diagnostics;
using System.Numerics;
using NBitcoin.Secp256k1;
using Skein.Ledger.Crypto;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Crypto;

public sealed class SignatureVerifierTests(ITestOutputHelper output)
{
    private const ulong ChainId = 31_337;

    private static readonly LedgerKey Alice = LedgerKey.FromPrivateKey(Convert.FromHexString(LedgerKeyTests.Web3DocsKeyHex));

    public static TheoryData<int> TransactionIndexes => SampleTransactions.Indexes();

    [Theory]
    [MemberData(nameof(TransactionIndexes))]
    public void Every_transaction_type_round_trips_through_sign_JSON_and_recover(int index)
    {
        var tx = SampleTransactions.All(Alice.Address)[index];

        var signed = Alice.SignTransaction(tx, ChainId);
        var back = SignedTransaction.FromJson(signed.ToJson());

        Assert.Equal(Alice.Address, SignatureVerifier.Recover(signed, ChainId));
        Assert.Equal(Alice.Address, SignatureVerifier.Recover(back, ChainId));
        Assert.Equal(tx.Digest(ChainId), back.Tx.Digest(ChainId));
    }

    [Fact]
    public void Every_transaction_type_has_its_own_digest()
    {
        var digests = SampleTransactions.All(Alice.Address).Select(t => t.Digest(ChainId)).ToHashSet();
        Assert.Equal(SampleTransactions.All(Alice.Address).Count, digests.Count);
    }

    [Fact]
    public void A_signature_from_another_key_is_not_accepted_for_the_sender()
    {
        using var mallory = LedgerKey.Generate();
        var tx = SampleTransactions.All(Alice.Address)[0];
        var forged = new SignedTransaction(tx, mallory.Sign(tx.Digest(ChainId)));
        Assert.Null(SignatureVerifier.Recover(forged, ChainId));
    }

    [Fact]
    public void A_changed_field_invalidates_the_signature()
    {
        var signed = Alice.SignTransaction(SampleTransactions.All(Alice.Address)[0], ChainId);
        var changed = signed with { Tx = (Transfer)signed.Tx with { Amount = 1 } };
        Assert.Null(SignatureVerifier.Recover(changed, ChainId));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(50)]
    [InlineData(63)]
    public void Flipping_a_bit_of_r_or_s_recovers_another_address_or_fails(int byteIndex)
    {
        var digest = SampleTransactions.H(9);
        for (var bit = 0; bit < 8; bit++)
        {
            var signature = Alice.Sign(digest);
            signature[byteIndex] ^= (byte)(1 << bit);
            if (SignatureVerifier.TryRecover(digest, signature, out var signer))
            {
                Assert.NotEqual(Alice.Address, signer);
            }
        }
    }

    [Fact]
    public void Flipping_a_bit_of_the_digest_recovers_another_address()
    {
        var digest = SampleTransactions.H(9);
        var signature = Alice.Sign(digest);
        for (var i = 0; i < 32; i += 5)
        {
            var bytes = digest.Bytes.ToArray();
            bytes[i] ^= 0x10;
            if (SignatureVerifier.TryRecover(new Hash32(bytes), signature, out var signer))
            {
                Assert.NotEqual(Alice.Address, signer);
            }
        }
    }

    [Fact]
    public void Another_chain_id_gives_another_digest_and_another_signer()
    {
        var tx = SampleTransactions.All(Alice.Address)[0];
        var signed = Alice.SignTransaction(tx, ChainId);

        Assert.NotEqual(tx.Digest(ChainId), tx.Digest(ChainId + 1));
        Assert.True(SignatureVerifier.TryRecover(tx.Digest(ChainId + 1), signed.Signature, out var signer));
        Assert.NotEqual(Alice.Address, signer);
        Assert.Null(SignatureVerifier.Recover(signed, ChainId + 1));
    }

    [Fact]
    public void High_s_twin_of_a_valid_signature_is_rejected()
    {
        var digest = SampleTransactions.H(3);
        var signature = Alice.Sign(digest);
        // (r, n - s, v ^ 1) is the other valid ECDSA signature by the same key: ecrecover would accept it.
        var s = new BigInteger(signature.AsSpan(32, 32), isUnsigned: true, isBigEndian: true);
        var highS = (LedgerKeyTests.CurveOrder - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        var twin = signature.ToArray();
        twin.AsSpan(32, 32).Clear();
        highS.CopyTo(twin.AsSpan(64 - highS.Length));
        twin[64] = (byte)(27 + ((signature[64] - 27) ^ 1));

        Assert.True(SignatureVerifier.TryRecover(digest, signature, out _));
        Assert.False(SignatureVerifier.TryRecover(digest, twin, out _));
        // Plain ECDSA recovery (like the EVM's ecrecover) still finds Alice from the twin: only our s check refuses it.
        Assert.True(SecpRecoverableECDSASignature.TryCreateFromCompact(twin.AsSpan(0, 64), twin[64] - 27, out var parsed));
        Assert.True(ECPubKey.TryRecover(Context.Instance, parsed, digest.Bytes, out var publicKey));
        Assert.Equal(Alice.Address, SignatureVerifier.AddressOf(publicKey));
    }

    [Fact]
    public void V_may_be_0_1_27_or_28_and_nothing_else()
    {
        var digest = SampleTransactions.H(4);
        var signature = Alice.Sign(digest);
        var recoveryId = signature[64] - 27;

        foreach (var v in new[] { recoveryId, recoveryId + 27 })
        {
            signature[64] = (byte)v;
            Assert.True(SignatureVerifier.TryRecover(digest, signature, out var signer));
            Assert.Equal(Alice.Address, signer);
        }
        // The other parity recovers some other key, never Alice.
        foreach (var v in new[] { recoveryId ^ 1, (recoveryId ^ 1) + 27 })
        {
            signature[64] = (byte)v;
            if (SignatureVerifier.TryRecover(digest, signature, out var signer))
            {
                Assert.NotEqual(Alice.Address, signer);
            }
        }
        foreach (var v in new[] { 2, 3, 26, 29, 30, 35, 36, 37, 38, 255 })
        {
            signature[64] = (byte)v;
            Assert.False(SignatureVerifier.TryRecover(digest, signature, out _));
        }
    }

    [Fact]
    public void Malformed_signatures_are_rejected()
    {
        var digest = SampleTransactions.H(5);
        var signature = Alice.Sign(digest);
        Assert.False(SignatureVerifier.TryRecover(digest, signature.AsSpan(0, 64), out _));
        Assert.False(SignatureVerifier.TryRecover(digest, [.. signature, 0], out _));
        Assert.False(SignatureVerifier.TryRecover(digest, [], out _));
        Assert.False(SignatureVerifier.TryRecover(digest, new byte[65], out _));

        var zeroR = signature.ToArray();
        zeroR.AsSpan(0, 32).Clear();
        Assert.False(SignatureVerifier.TryRecover(digest, zeroR, out _));
        var zeroS = signature.ToArray();
        zeroS.AsSpan(32, 32).Clear();
        Assert.False(SignatureVerifier.TryRecover(digest, zeroS, out _));
        var overflowR = signature.ToArray();
        overflowR.AsSpan(0, 32).Fill(0xff);
        Assert.False(SignatureVerifier.TryRecover(digest, overflowR, out _));
        var overflowS = signature.ToArray();
        overflowS.AsSpan(32, 32).Fill(0xff);
        Assert.False(SignatureVerifier.TryRecover(digest, overflowS, out _));
    }

    [Fact]
    public void Recover_returns_null_for_a_wrong_length_signature_in_a_transaction()
    {
        var tx = SampleTransactions.All(Alice.Address)[0];
        Assert.Null(SignatureVerifier.Recover(new SignedTransaction(tx, new byte[64]), ChainId));
    }

    [Fact]
    public void Reports_recoveries_per_second_on_one_core()
    {
        // Reports only: timing depends on the machine and its load, so nothing is asserted.
        const int count = 2_000;
        var digests = Enumerable.Range(0, count).Select(i => new Hash32(Eip712.Keccak(BitConverter.GetBytes(i)))).ToArray();
        var signatures = digests.Select(Alice.Sign).ToArray();
        for (var i = 0; i < 200; i++)
        {
            SignatureVerifier.TryRecover(digests[i], signatures[i], out _);
        }
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            Assert.True(SignatureVerifier.TryRecover(digests[i], signatures[i], out _));
        }
        stopwatch.Stop();
        var perSecond = count / stopwatch.Elapsed.TotalSeconds;
        output.WriteLine($"{perSecond:F0} recoveries/s on one thread ({stopwatch.Elapsed.TotalMicroseconds / count:F1} µs each)");
    }
}
