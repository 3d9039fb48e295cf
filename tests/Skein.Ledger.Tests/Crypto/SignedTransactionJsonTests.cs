using System.Text.Json;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Crypto;

/// <summary>Signed transactions read from strangers' JSON: a missing part is refused naming it, never taken as null.</summary>
public sealed class SignedTransactionJsonTests
{
    [Theory]
    [InlineData("{}", "tx: is required")]
    [InlineData("""{"signature":"0x00"}""", "tx: is required")]
    [InlineData("""{"tx":{"type":"transfer","from":"0x0000000000000000000000000000000000000001","nonce":0,"to":"0x0000000000000000000000000000000000000002","amount":"1"}}""", "signature: is required")]
    public void A_signed_transaction_without_its_transaction_or_signature_is_refused_naming_the_field(string json, string reason)
    {
        var refusal = Assert.Throws<JsonException>(() => SignedTransaction.FromJson(json));
        Assert.StartsWith(reason, refusal.Message, StringComparison.Ordinal);
    }
}
