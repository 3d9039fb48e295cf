using System.Globalization;

namespace Skein.Market.Akash;

/// <summary>The three endings of the flow and what they tell the user.</summary>
public sealed partial class AkashDeployFlow
{
    /// <summary>What a user can check when nobody bids; Akash's API only ever returns an empty list.</summary>
    internal const string NoBidReasons =
        "Akash's API does not say why no provider bid: a provider stays silent when the placement's attributes, signedBy "
        + "auditors, price ceiling, GPU model, persistent storage or IP needs do not match what it has free, and Console's "
        + "managed wallet also hides bids from providers its allowed auditors have not signed.";

    private async Task<AkashDeployResult> NoBidsAsync(string dseq, BidWait wait, CancellationToken ct)
    {
        var closed = _options.CloseOnFailure && await TryCloseAsync(dseq, ct);
        var from = _options.Provider is { } p ? $" from provider {p}" : "";
        var groups = string.Join(", ", wait.Choice.MissingGroups);
        return new AkashDeployResult
        {
            Outcome = AkashDeployOutcome.NoBids,
            Dseq = dseq,
            MissingGroups = wait.Choice.MissingGroups,
            DeploymentClosed = closed,
            Message = $"No bid{from} arrived for group(s) {groups} of deployment {dseq} within {Seconds(wait.Elapsed)} ({wait.Polls} polls). "
                + NoBidReasons + " " + ClosedSentence(dseq, closed),
        };
    }

    private async Task<AkashDeployResult> LeaseFailedAsync(string dseq, AkashApiException error, CancellationToken ct)
    {
        var closed = _options.CloseOnFailure && await TryCloseAsync(dseq, ct);
        return new AkashDeployResult
        {
            Outcome = AkashDeployOutcome.LeaseFailed,
            Dseq = dseq,
            DeploymentClosed = closed,
            Error = error,
            Message = $"Console could not lease deployment {dseq}: {(int)error.StatusCode} {error.ApiMessage}. " + ClosedSentence(dseq, closed),
        };
    }

    private async Task<AkashDeployResult> LeasedAsync(string dseq, AkashBidChoice choice, AkashDeploymentDetails details, CancellationToken ct)
    {
        var quotes = choice.Bids.Select(bid => Quote(bid, details)).ToList();
        var autoTopUp = false;
        if (_options.EnableAutoTopUp)
        {
            try
            {
                autoTopUp = (await _console.UpdateDeploymentSettingAsync(dseq, autoTopUpEnabled: true, ct)).AutoTopUpEnabled;
            }
            catch (AkashApiException)
            {
                // The lease stands either way; the result says auto top-up is off.
            }
        }

        var lines = quotes.Select(q => $"group {q.LeaseId.Gseq} from {q.LeaseId.Provider} at {q.Price}");
        return new AkashDeployResult
        {
            Outcome = AkashDeployOutcome.Leased,
            Dseq = dseq,
            Leases = quotes,
            Deployment = details,
            AutoTopUpEnabled = autoTopUp,
            Message = string.Create(CultureInfo.InvariantCulture, $"Leased deployment {dseq}: {string.Join("; ", lines)}."),
        };
    }

    /// <summary>The lease Console returned for the bid, priced at its own rate; the bid's own when the response lacks it.</summary>
    private AkashLeaseQuote Quote(AkashBid bid, AkashDeploymentDetails details)
    {
        var lease = details.Leases.FirstOrDefault(l => l.Id.Gseq == bid.Id.Gseq && l.Id.Oseq == bid.Id.Oseq && l.Id.Provider == bid.Id.Provider);
        var id = lease?.Id ?? new AkashLeaseId { Owner = bid.Id.Owner, Dseq = bid.Id.Dseq, Gseq = bid.Id.Gseq, Oseq = bid.Id.Oseq, Provider = bid.Id.Provider, Bseq = bid.Id.Bseq };
        var price = AkashPrice.FromCoin(lease?.Price ?? bid.Price, _options.AverageBlockTimeSeconds);
        var gpus = bid.ResourcesOffer.SelectMany(o => o.Resources.GpuModels()).Distinct().ToList();
        return new AkashLeaseQuote(id, price, gpus);
    }

    private static string ClosedSentence(string dseq, bool closed) => closed
        ? "The deployment was closed and the rest of its deposit returned."
        : $"The deployment is still open; close it (DELETE /v1/deployments/{dseq}) to get the deposit back.";
}
