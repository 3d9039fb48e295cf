using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Transactions;

namespace Skein.Market;

/// <summary>
/// Sends one key's market transactions: takes the next nonce, signs for the ledger's chain, submits, and keeps the
/// nonce itself so that transactions sent one after another do not each ask for it; one at a time per key, and a
/// nonce refusal (another process used the key) refreshes the nonce and retries once.
/// </summary>
public sealed class MarketSigner(IMarketLedger market, LedgerKey key) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ulong? _nonce;

    public Address Address => key.Address;

    public async Task<TxReceipt> SendAsync(Func<Address, ulong, Transaction> build, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(build);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                _nonce ??= await market.GetNonceAsync(key.Address, cancellationToken);
                var signed = key.SignTransaction(build(key.Address, _nonce.Value), market.ChainId) with { ChainId = market.ChainId };
                try
                {
                    var receipt = await market.SubmitAsync(signed, cancellationToken);
                    _nonce++;
                    return receipt;
                }
                catch (LedgerException ex) when (ex.Code == LedgerError.BadNonce && attempt == 0)
                {
                    _nonce = null;
                }
                catch (LedgerException)
                {
                    // A refused transaction does not use its nonce.
                    throw;
                }
                catch
                {
                    // Unknown outcome (the connection broke): ask the ledger next time.
                    _nonce = null;
                    throw;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
