using System.Numerics;
using System.Text;
using Nethereum.Signer;
using Nethereum.Util;
using Skein.Ledger.Crypto;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Crypto;

public sealed class LedgerKeyTests
{
    // The web3.js documentation's example account and its eth.accounts.sign('Some data') result.
    internal const string Web3DocsKeyHex = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    internal const string Web3DocsAddress = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
    private const string Web3DocsSomeDataHash = "0x1da44b586eb0729ff70a73c326926f6ed5a25f5b056e7f47fbc6e58d86871655";
    private const string Web3DocsSomeDataSignature =
        "b91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd6007e74cd82e037b800186422fc2da167c747ef045e5d18a5f5d4300f8e1a0291c";

    internal static readonly BigInteger CurveOrder = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);

    [Fact]
    public void Known_private_key_gives_the_documented_address()
    {
        using var key = LedgerKey.FromPrivateKey(Convert.FromHexString(Web3DocsKeyHex));
        Assert.Equal(Address.Parse(Web3DocsAddress), key.Address);
        Assert.Equal(Web3DocsAddress, key.Address.ToString());
    }

    [Fact]
    public void Known_private_key_signs_the_documented_personal_message_signature()
    {
        // eth.accounts.sign hashes "\x19Ethereum Signed Message:\n" + length + message; both sides use RFC 6979
        // nonces and low s, so the whole 65 bytes must agree, not only the recovered address.
        var digest = new Hash32(Sha3Keccack.Current.CalculateHash(Encoding.UTF8.GetBytes("\u0019Ethereum Signed Message:\n9Some data")));
        Assert.Equal(Hash32.Parse(Web3DocsSomeDataHash), digest);
        using var key = LedgerKey.FromPrivateKey(Convert.FromHexString(Web3DocsKeyHex));

        var signature = key.Sign(digest);

        Assert.Equal(Web3DocsSomeDataSignature, Convert.ToHexStringLower(signature));
        Assert.True(SignatureVerifier.TryRecover(digest, signature, out var signer));
        Assert.Equal(key.Address, signer);
    }

    [Fact]
    public void Signatures_and_addresses_match_Nethereum_EthECKey_byte_for_byte()
    {
        for (var i = 0; i < 20; i++)
        {
            using var key = LedgerKey.Generate();
            var secret = new byte[32];
            key.ExportPrivateKey(secret);
            var reference = new EthECKey(secret, true);
            Assert.Equal(Address.Parse(reference.GetPublicAddress()), key.Address);

            var digest = SampleTransactions.H((byte)(i * 7)).Bytes.ToArray();
            var ours = key.Sign(new Hash32(digest));
            var theirs = reference.SignAndCalculateV(digest);
            Assert.Equal([.. Pad32(theirs.R), .. Pad32(theirs.S), .. theirs.V], ours);

            // And Nethereum accepts ours: it recovers the same key from our r, s, v.
            var parsed = EthECDSASignatureFactory.FromComponents(ours[..32], ours[32..64], ours[64]);
            Assert.Equal(reference.GetPublicAddress(), EthECKey.RecoverFromSignature(parsed, digest).GetPublicAddress());
            Assert.True(reference.VerifyAllowingOnlyLowS(digest, parsed));
        }
    }

    [Fact]
    public void Signing_is_deterministic_and_always_low_s_with_v_27_or_28()
    {
        using var key = LedgerKey.Generate();
        var half = CurveOrder / 2;
        var seenV = new HashSet<byte>();
        for (var i = 0; i < 64; i++)
        {
            var digest = SampleTransactions.H((byte)i);
            var signature = key.Sign(digest);
            Assert.Equal(signature, key.Sign(digest));
            Assert.True(new BigInteger(signature.AsSpan(32, 32), isUnsigned: true, isBigEndian: true) <= half);
            Assert.InRange(signature[64], (byte)27, (byte)28);
            seenV.Add(signature[64]);
        }
        // Over 64 digests both recovery ids occur (probability of not seeing one is 2^-63).
        Assert.Equal(2, seenV.Count);
    }

    [Fact]
    public void Generated_keys_differ()
    {
        using var a = LedgerKey.Generate();
        using var b = LedgerKey.Generate();
        Assert.NotEqual(a.Address, b.Address);
    }

    [Fact]
    public void Zero_and_out_of_range_private_keys_are_rejected_without_echoing_them()
    {
        var order = CurveOrder.ToByteArray(isUnsigned: true, isBigEndian: true);
        var orderMinusOne = (CurveOrder - 1).ToByteArray(isUnsigned: true, isBigEndian: true);
        var allOnes = Enumerable.Repeat((byte)0xff, 32).ToArray();
        foreach (var bad in new[] { new byte[32], order, allOnes })
        {
            var e = Assert.Throws<ArgumentException>(() => LedgerKey.FromPrivateKey(bad));
            Assert.Equal("privateKey", e.ParamName);
            Assert.Contains("curve order", e.Message);
            Assert.DoesNotContain(Convert.ToHexStringLower(bad), e.ToString(), StringComparison.OrdinalIgnoreCase);
        }
        Assert.Throws<ArgumentException>(() => LedgerKey.FromPrivateKey(new byte[31]));
        using var max = LedgerKey.FromPrivateKey(orderMinusOne);
        using var one = LedgerKey.FromPrivateKey([.. new byte[31], 1]);
        // The address of key 1 (the generator point) is a well-known constant.
        Assert.Equal(Address.Parse("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"), one.Address);
    }

    [Fact]
    public void ToString_shows_the_address_and_not_the_key()
    {
        using var key = LedgerKey.FromPrivateKey(Convert.FromHexString(Web3DocsKeyHex));
        var text = key.ToString();
        Assert.Contains(Web3DocsAddress, text);
        Assert.DoesNotContain(Web3DocsKeyHex, text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Web3DocsKeyHex[..16], text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void SignTransaction_refuses_a_transaction_from_another_address()
    {
        using var key = LedgerKey.Generate();
        var tx = new Transfer { From = SampleTransactions.Other, Nonce = 0, To = key.Address, Amount = 1 };
        var e = Assert.Throws<ArgumentException>(() => key.SignTransaction(tx, 1));
        Assert.Contains(SampleTransactions.Other.ToString(), e.Message);
    }

    [Fact]
    public void A_disposed_key_no_longer_signs()
    {
        var key = LedgerKey.Generate();
        key.Dispose();
        Assert.ThrowsAny<ObjectDisposedException>(() => key.Sign(SampleTransactions.H(1)));
    }

    private static byte[] Pad32(byte[] value) => [.. new byte[32 - value.Length], .. value];
}
