using System.Globalization;
using System.Numerics;
using System.Reflection;
using Nethereum.ABI.EIP712;
using Nethereum.Signer;
using Nethereum.Signer.EIP712;
using Skein.Ledger.Crypto;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Crypto;

/// <summary>
/// Nethereum's EIP-712 encoder and eth_signTypedData_v4 signer stand in for a wallet: if they hash our transactions
/// to our digests and their signatures recover with our verifier, a wallet can sign ledger transactions.
/// </summary>
public sealed class Eip712InteropTests
{
    private const ulong ChainId = 31_337;

    private static readonly byte[] Secret = Convert.FromHexString(LedgerKeyTests.Web3DocsKeyHex);

    public static TheoryData<int> TransactionIndexes => SampleTransactions.Indexes();

    private static Address From => Address.Parse(LedgerKeyTests.Web3DocsAddress);

    [Theory]
    [InlineData(1UL)]
    [InlineData(ChainId)]
    [InlineData(ulong.MaxValue)]
    public void Domain_separator_matches_Nethereum(ulong chainId)
    {
        var typed = Typed("Transfer", [], [], chainId);
        Assert.Equal(Convert.ToHexStringLower(Eip712.DomainSeparator(chainId)), Convert.ToHexStringLower(Eip712TypedDataEncoder.Current.HashDomainSeparator(typed)));
    }

    [Fact]
    public void Transfer_written_out_by_hand_hashes_to_our_digest()
    {
        var tx = (Transfer)SampleTransactions.All(From)[0];
        var typed = Typed(
            "Transfer",
            [M("from", "address"), M("nonce", "uint64"), M("to", "address"), M("amount", "uint256")],
            [V("address", From.ToString()), V("uint64", new BigInteger(tx.Nonce)), V("address", tx.To.ToString()), V("uint256", (BigInteger)tx.Amount)]);

        AssertSameDigestAndSignatureRecovers(tx, typed);
    }

    [Fact]
    public void CreateTask_written_out_by_hand_hashes_to_our_digest()
    {
        var tx = (CreateTask)SampleTransactions.All(From)[6];
        var typed = Typed(
            "CreateTask",
            [
                M("from", "address"), M("nonce", "uint64"), M("specHash", "bytes32"), M("rewardPool", "uint256"), M("rounds", "uint32"),
                M("minStake", "uint256"), M("trainersPerRound", "uint32"), M("validatorsPerRound", "uint32"), M("rejectBelow", "uint32"),
            ],
            [
                V("address", From.ToString()), V("uint64", new BigInteger(tx.Nonce)), V("bytes32", tx.SpecHash.Bytes.ToArray()),
                V("uint256", (BigInteger)tx.RewardPool), V("uint32", new BigInteger(tx.Rounds)), V("uint256", (BigInteger)tx.MinStake),
                V("uint32", new BigInteger(tx.TrainersPerRound)), V("uint32", new BigInteger(tx.ValidatorsPerRound)), V("uint32", new BigInteger(tx.RejectBelow)),
            ]);

        AssertSameDigestAndSignatureRecovers(tx, typed);
    }

    [Fact]
    public void RevealScores_written_out_by_hand_hashes_to_our_digest()
    {
        var tx = (RevealScores)SampleTransactions.All(From)[13];
        var typed = Typed(
            "RevealScores",
            [M("from", "address"), M("nonce", "uint64"), M("taskId", "uint64"), M("round", "uint32"), M("scores", "uint256[]"), M("salt", "bytes32")],
            [
                V("address", From.ToString()), V("uint64", new BigInteger(tx.Nonce)), V("uint64", new BigInteger(tx.TaskId)), V("uint32", new BigInteger(tx.Round)),
                V("uint256[]", tx.Scores.Select(s => new BigInteger(s)).ToList()), V("bytes32", tx.Salt.Bytes.ToArray()),
            ]);

        AssertSameDigestAndSignatureRecovers(tx, typed);
    }

    [Fact]
    public void RevealScores_with_no_scores_hashes_to_our_digest()
    {
        var tx = (RevealScores)SampleTransactions.All(From)[13] with { Scores = [] };
        AssertSameDigestAndSignatureRecovers(tx, FromTypeSignature(tx));
    }

    [Theory]
    [MemberData(nameof(TransactionIndexes))]
    public void Every_transaction_type_hashes_like_Nethereum_from_its_type_signature(int index)
    {
        // Built from TypeSignature and the record's properties, so it also checks that each EncodeFields writes
        // exactly the fields its TypeSignature declares, in that order.
        var tx = SampleTransactions.All(From)[index];
        AssertSameDigestAndSignatureRecovers(tx, FromTypeSignature(tx));
    }

    [Fact]
    public void A_wallet_request_in_eth_signTypedData_v4_JSON_signs_a_valid_ledger_transaction()
    {
        var tx = (Transfer)SampleTransactions.All(From)[0];
        // What a dapp sends to a wallet: the domain, the types, and the message with numbers as decimal strings.
        var json = $$"""
            {
              "types": {
                "EIP712Domain": [{ "name": "name", "type": "string" }, { "name": "version", "type": "string" }, { "name": "chainId", "type": "uint256" }],
                "Transfer": [{ "name": "from", "type": "address" }, { "name": "nonce", "type": "uint64" }, { "name": "to", "type": "address" }, { "name": "amount", "type": "uint256" }]
              },
              "primaryType": "Transfer",
              "domain": { "name": "Skein Ledger", "version": "1", "chainId": {{ChainId}} },
              "message": { "from": "{{tx.From}}", "nonce": {{tx.Nonce}}, "to": "{{tx.To}}", "amount": "{{tx.Amount.ToString(CultureInfo.InvariantCulture)}}" }
            }
            """;
        Assert.Equal(tx.Digest(ChainId).ToString(), "0x" + Convert.ToHexStringLower(Eip712TypedDataEncoder.Current.EncodeAndHashTypedData(json)));

        var signature = Convert.FromHexString(Eip712TypedDataSigner.Current.SignTypedDataV4(json, new EthECKey(Secret, true))[2..]);

        Assert.Equal(From, SignatureVerifier.Recover(new SignedTransaction(tx, signature), ChainId));
    }

    private static void AssertSameDigestAndSignatureRecovers(Transaction tx, TypedData<Domain> typed)
    {
        var theirs = Eip712TypedDataEncoder.Current.EncodeAndHashTypedData(typed);
        Assert.Equal(tx.Digest(ChainId).ToString(), "0x" + Convert.ToHexStringLower(theirs));

        var signatureHex = Eip712TypedDataSigner.Current.SignTypedDataV4(typed, new EthECKey(Secret, true));
        var signature = Convert.FromHexString(signatureHex.StartsWith("0x", StringComparison.Ordinal) ? signatureHex[2..] : signatureHex);
        Assert.Equal(65, signature.Length);
        Assert.Equal(From, SignatureVerifier.Recover(new SignedTransaction(tx, signature), ChainId));

        // Both sides sign with RFC 6979 nonces and low s, so our own signature is the wallet's, byte for byte.
        using var key = LedgerKey.FromPrivateKey(Secret);
        Assert.Equal(signature, key.SignTransaction(tx, ChainId).Signature);
    }

    private static TypedData<Domain> FromTypeSignature(Transaction tx)
    {
        var signature = tx.TypeSignature;
        var open = signature.IndexOf('(', StringComparison.Ordinal);
        var fields = signature[(open + 1)..^1].Split(',').Select(f => f.Split(' ')).Select(p => (Type: p[0], Name: p[1])).ToArray();
        var values = fields.Select(f =>
        {
            var property = tx.GetType().GetProperty(char.ToUpperInvariant(f.Name[0]) + f.Name[1..], BindingFlags.Public | BindingFlags.Instance)
                ?? throw new InvalidOperationException($"{tx.TypeName}.{f.Name} has no property");
            return V(f.Type, ToAbi(property.GetValue(tx)!));
        }).ToArray();
        return Typed(tx.TypeName, [.. fields.Select(f => M(f.Name, f.Type))], values);
    }

    private static object ToAbi(object value) => value switch
    {
        Address a => a.ToString(),
        string s => s,
        Hash32 h => h.Bytes.ToArray(),
        Role r => new BigInteger((byte)r),
        UInt128 u => (BigInteger)u,
        ulong u => new BigInteger(u),
        uint u => new BigInteger(u),
        IReadOnlyList<ulong> list => list.Select(x => new BigInteger(x)).ToList(),
        _ => throw new InvalidOperationException($"no ABI value for {value.GetType()}"),
    };

    private static TypedData<Domain> Typed(string primaryType, MemberDescription[] members, MemberValue[] message, ulong chainId = ChainId) => new()
    {
        Domain = new Domain { Name = Eip712.DomainName, Version = Eip712.DomainVersion, ChainId = chainId },
        Types = new Dictionary<string, MemberDescription[]>
        {
            ["EIP712Domain"] = [M("name", "string"), M("version", "string"), M("chainId", "uint256")],
            [primaryType] = members,
        },
        PrimaryType = primaryType,
        Message = message,
        // Nethereum's Domain also carries verifyingContract, which it would encode (as null) if it derived the raw
        // values from the object; our domain has no such field, so its three values are given as the types declare.
        DomainRawValues = [V("string", Eip712.DomainName), V("string", Eip712.DomainVersion), V("uint256", new BigInteger(chainId))],
    };

    private static MemberDescription M(string name, string type) => new() { Name = name, Type = type };

    private static MemberValue V(string type, object value) => new() { TypeName = type, Value = value };
}
