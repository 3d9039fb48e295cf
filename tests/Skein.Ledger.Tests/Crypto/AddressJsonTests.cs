using System.Text.Json;
using Skein.Ledger.Transactions;

namespace Skein.Ledger.Tests.Crypto;

/// <summary>Addresses in JSON: as values and as the keys of an object (a round's scores by validator), both checksummed and read back.</summary>
public sealed class AddressJsonTests
{
    [Fact]
    public void Scores_keyed_by_validator_serialise_with_checksummed_keys_and_read_back()
    {
        using var v1 = Skein.Ledger.Crypto.LedgerKey.FromPrivateKey(Enumerable.Repeat((byte)7, 32).ToArray());
        using var v2 = Skein.Ledger.Crypto.LedgerKey.FromPrivateKey(Enumerable.Repeat((byte)9, 32).ToArray());
        var scores = new Dictionary<Address, IReadOnlyList<ulong>> { [v1.Address] = [1, 999_999], [v2.Address] = [0] };

        var json = JsonSerializer.Serialize(scores, SignedTransaction.JsonOptions);
        Assert.Contains($"\"{v1.Address}\":[1,999999]", json, StringComparison.Ordinal);
        var back = JsonSerializer.Deserialize<Dictionary<Address, ulong[]>>(json, SignedTransaction.JsonOptions)!;
        Assert.Equal([0UL], back[v2.Address]);
        Assert.Throws<FormatException>(() => JsonSerializer.Deserialize<Dictionary<Address, ulong[]>>("{\"0x12\":[1]}", SignedTransaction.JsonOptions));
    }
}
