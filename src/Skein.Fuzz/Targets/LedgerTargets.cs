using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using NBitcoin.Secp256k1;
using Nethereum.Util;
using Skein.Core;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.State;
using Skein.Ledger.Storage;
using Skein.Ledger.Transactions;

namespace Skein.Fuzz.Targets;

/// <summary>The ledger's inputs from strangers: signed transactions (JSON, EIP-712 digest, signature, the state machine), raw signatures, and genesis files.</summary>
internal static class LedgerTargets
{
    private static readonly string[] TxKeys =
    [
        "tx", "signature", "chain_id", "type", "from", "nonce", "to", "amount", "role", "operator", "commission_bps", "spec_hash", "reward_pool", "rounds",
        "min_stake", "trainers_per_round", "validators_per_round", "reject_below", "task_id", "round", "model_hash", "update_hash", "samples", "commitment",
        "scores", "salt", "new_model_hash", "host_uri", "attributes", "capacity", "provider", "dseq", "manifest_hash", "groups", "deposit", "owner", "gseq",
        "oseq", "price", "kind", "parameter", "value", "name", "license", "recipient", "proposal_id", "option",
    ];

    private static readonly string[] TxWords =
    [
        "transfer", "stake", "unstake", "delegate", "undelegate", "set_commission", "create_task", "join_task", "open_round", "submit_update", "close_training",
        "commit_scores", "close_commits", "reveal_scores", "finalize_round", "register_provider", "sign_provider_attributes", "create_deployment",
        "deposit_deployment", "close_deployment", "create_bid", "close_bid", "create_lease", "withdraw_lease", "close_lease", "submit_proposal",
        "vote_proposal", "trainer", "validator", "parameter_change", "task_approval", "yes", "no_with_veto", "$type",
    ];

    private static readonly Lazy<(IReadOnlyList<Transaction> Unsigned, byte[][] Seeds)> Txs = new(() =>
    {
        var unsigned = LedgerFixture.Transactions();
        return (unsigned, [.. unsigned.Select(t => Encoding.UTF8.GetBytes(LedgerFixture.Sign(t).ToJson()))]);
    });

    public static FuzzTarget Transaction() => new()
    {
        Name = "transaction",
        Description = "SignedTransaction.FromJson (POST /v1/tx, gRPC SubmitTransaction), its EIP-712 digest and signature, then StateMachine.Apply on a fresh state",
        Seeds = Txs.Value.Seeds,
        Dictionary = FuzzText.Of(FuzzText.Json, FuzzText.JsonKeys(TxKeys), TxWords.Select(w => $"\"{w}\""), LedgerFixture.Keys.Select(k => $"\"{k.Address}\"")),
        Generate = GenerateTransaction,
        Run = input =>
        {
            if (!TryRead(FuzzText.Text(input), out var signed))
            {
                return FuzzOutcome.Refused;
            }
            // As EmbeddedLedger.SubmitBatchAsync does, on a fresh state: the digest is the id, then the block's start and the rules.
            var state = LedgerState.FromGenesis(LedgerFixture.Genesis);
            var block = new BlockContext(1, Hash32.Zero, LedgerFixture.Genesis.Timestamp + 1000);
            try
            {
                var id = signed.Tx.Digest(LedgerFixture.ChainId);
                StateMachine.BeginBlock(state, block);
                StateMachine.Apply(state, signed, block, digest: id);
            }
            catch (LedgerException)
            {
                return FuzzOutcome.Refused;
            }
            return FuzzOutcome.Accepted;
        },
    };

    /// <summary>The refusals the transaction reader documents: what POST /v1/tx and gRPC answer with 400 / InvalidArgument.</summary>
    internal static bool TryRead(string json, out SignedTransaction signed)
    {
        try
        {
            signed = SignedTransaction.FromJson(json);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            signed = null!;
            return false;
        }
    }

    /// <summary>A seed transaction with one field replaced by a generated value, then signed properly, so that it passes the signature and meets the rules.</summary>
    private static byte[] GenerateTransaction(DeterministicRandom rng)
    {
        var unsigned = Txs.Value.Unsigned;
        var tx = unsigned[rng.NextInt(unsigned.Count)];
        var node = JsonSerializer.SerializeToNode(tx, SignedTransaction.JsonOptions)!.AsObject();
        var edits = 1 + rng.NextInt(3);
        for (var e = 0; e < edits; e++)
        {
            var keys = node.Select(p => p.Key).Where(k => k != "type").ToArray();
            var key = keys[rng.NextInt(keys.Length)];
            node[key] = JsonNode.Parse(FieldValue.Draw(rng));
        }
        Transaction? edited;
        try
        {
            edited = node.Deserialize<Transaction>(SignedTransaction.JsonOptions);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return Encoding.UTF8.GetBytes($$"""{"tx":{{node.ToJsonString()}},"signature":"0x{{new string('1', 130)}}"}""");
        }
        return edited is null ? [] : Encoding.UTF8.GetBytes(LedgerFixture.Sign(edited).ToJson());
    }

    private static readonly Gen<string> FieldValue = Gen.Frequency(
        (4, Generators.JsonInteger.Select(n => n.Contains('.', StringComparison.Ordinal) || n.Contains('e', StringComparison.Ordinal) ? "\"" + n + "\"" : n)),
        (3, Generators.JsonInteger.Select(n => "\"" + n.TrimStart('-') + "\"")),
        (2, Gen.OneOf([.. LedgerFixture.Keys.Select(k => $"\"{k.Address}\""), "\"0x0000000000000000000000000000000000000000\""])),
        (1, Gen.OneOf("\"trainer\"", "\"validator\"", "\"parameter_change\"", "\"release\"", "\"yes\"", "\"veto\"", "0", "3", "255")),
        (1, Gen.OneOf("\"[]\"", "\"{}\"", "\"[{}]\"", "\"null\"", "\"[{\\\"name\\\":\\\"a\\\",\\\"resources\\\":[]}]\"", "\"{\\\"cpu_millis\\\":-1}\"", "\"governance.quorum_bps\"", "\"\"")),
        (1, Gen.Const("\"0x" + new string('f', 64) + "\"")),
        (1, Generators.JsonArray(Generators.JsonInteger, 6)),
        (1, Generators.JsonScalar));

    public static FuzzTarget Signature()
    {
        var seeds = new List<byte[]>();
        foreach (var (key, i) in LedgerFixture.Keys.Select((k, i) => (k, i)))
        {
            var digest = new Hash32(Eip712.Keccak([(byte)i]));
            var signature = key.Sign(digest);
            seeds.Add([.. digest.Bytes, .. signature]);
            signature[64] -= 27;
            seeds.Add([.. digest.Bytes, .. signature]);
        }
        return new FuzzTarget
        {
            Name = "signature",
            Description = "SignatureVerifier.TryRecover: 32-byte digest + 65-byte signature (r, s, v); native recovery checked against NBitcoin's managed one",
            Seeds = seeds,
            Run = input =>
            {
                var digest = new Hash32(input.Length >= 32 ? input.AsSpan(0, 32) : [.. input, .. new byte[32 - input.Length]]);
                var signature = input.Length >= 32 ? input.AsSpan(32) : [];
                var ok = SignatureVerifier.TryRecover(digest, signature, out var signer);
                var managed = RecoverManaged(digest, signature);
                if (ok != managed.HasValue || (ok && signer != managed))
                {
                    throw new FuzzInvariantException($"recovery disagrees with the managed implementation: {(ok ? signer.ToString() : "refused")} vs {(managed?.ToString() ?? "refused")}");
                }
                return ok ? FuzzOutcome.Accepted : FuzzOutcome.Refused;
            },
        };
    }

    /// <summary>ecrecover with the strict rules of <see cref="SignatureVerifier"/>, by NBitcoin's managed secp256k1 alone.</summary>
    private static Address? RecoverManaged(Hash32 digest, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != 65 || signature[64] is not (0 or 1 or 27 or 28))
        {
            return null;
        }
        var recoveryId = signature[64] >= 27 ? signature[64] - 27 : signature[64];
        if (!SecpRecoverableECDSASignature.TryCreateFromCompact(signature[..64], recoveryId, out var sig))
        {
            return null;
        }
        sig.Deconstruct(out _, out var s, out _);
        if (s.IsHigh || !ECPubKey.TryRecover(Context.Instance, sig, digest.Bytes, out var publicKey))
        {
            return null;
        }
        Span<byte> uncompressed = stackalloc byte[65];
        publicKey.WriteToSpan(false, uncompressed, out _);
        return Address.FromBytes(Sha3Keccack.Current.CalculateHash(uncompressed[1..].ToArray()).AsSpan(12));
    }

    public static FuzzTarget Genesis() => new()
    {
        Name = "genesis",
        Description = "GenesisJson.Deserialize and LedgerState.FromGenesis: a genesis file given by others (skein network join --genesis, skein ledger init)",
        Seeds = [Encoding.UTF8.GetBytes(GenesisJson.Serialize(LedgerFixture.Genesis)), Encoding.UTF8.GetBytes(GenesisJson.Serialize(LedgerFixture.Genesis with { Params = LedgerParams.Default }))],
        Dictionary = FuzzText.Of(FuzzText.Json, LedgerFixture.Keys.Select(k => $"\"{k.Address}\"")),
        Run = input =>
        {
            try
            {
                _ = LedgerState.FromGenesis(GenesisJson.Deserialize(FuzzText.Text(input)));
                return FuzzOutcome.Accepted;
            }
            catch (Exception ex) when (ex is JsonException or FormatException or LedgerException)
            {
                return FuzzOutcome.Refused;
            }
        },
    };
}
