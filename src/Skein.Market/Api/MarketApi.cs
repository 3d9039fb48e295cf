using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Ledger.Transactions;

namespace Skein.Market.Api;

/// <summary>
/// The local market's HTTP API, served by whoever hosts the ledger (the coordinator). Its shape follows Akash
/// Console's API where the semantics match (every answer in <c>{"data": ...}</c>, errors as <c>{"error","message"}</c>,
/// bids and leases with Akash's ids and states); where they differ, tenants and providers sign their own
/// transactions and post them to <c>/v1/tx</c> instead of trusting a managed wallet.
/// </summary>
public static class MarketApi
{
    public static IEndpointRouteBuilder MapMarketApi(this IEndpointRouteBuilder app, ILedger ledger)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(ledger);
        app.MapGet("/v1/market", async (CancellationToken ct) => Ok(MarketApiMapping.ToApi(ledger.ChainId, await ledger.GetMarketStatusAsync(ct))));
        app.MapGet("/v1/accounts/{address}", async (string address, CancellationToken ct) =>
        {
            if (!TryAddress(address, "address", out var a, out var error))
            {
                return error;
            }
            var rules = (await ledger.GetMarketStatusAsync(ct)).Params;
            var balance = await ledger.GetBalanceAsync(a, ct);
            return Ok(new ApiAccount(a.ToString(), await ledger.GetNonceAsync(a, ct), Tokens.Format(balance), MarketApiMapping.Coin(rules, balance)));
        });
        app.MapPost("/v1/tx", async (HttpRequest request, CancellationToken ct) =>
        {
            SignedTransaction signed;
            try
            {
                using var reader = new StreamReader(request.Body);
                signed = SignedTransaction.FromJson(await reader.ReadToEndAsync(ct));
            }
            catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException or NotSupportedException)
            {
                return Fail(StatusCodes.Status400BadRequest, "invalid_transaction", $"body: not a signed transaction ({ex.Message})");
            }
            try
            {
                var receipt = await ledger.SubmitAsync(signed with { ChainId = signed.ChainId ?? ledger.ChainId }, ct);
                return Ok(new ApiTxResult(receipt.Id.ToString(), receipt.BlockHeight));
            }
            catch (LedgerException ex)
            {
                return Fail(StatusCodes.Status400BadRequest, ErrorCode(ex.Code), ex.Message);
            }
        });
        app.MapGet("/v1/providers", async (CancellationToken ct) => Ok((await ledger.ListProvidersAsync(ct)).Select(MarketApiMapping.ToApi).ToArray()));
        app.MapGet("/v1/providers/{address}", async (string address, CancellationToken ct) =>
        {
            if (!TryAddress(address, "address", out var a, out var error))
            {
                return error;
            }
            return await ledger.GetProviderAsync(a, ct) is { } p ? Ok(MarketApiMapping.ToApi(p)) : Fail(StatusCodes.Status404NotFound, "not_found", $"provider {a} is not registered");
        });
        app.MapGet("/v1/deployments", async (string? owner, string? provider, bool? active, CancellationToken ct) =>
        {
            if (!TryOptional(owner, "owner", out var o, out var e1))
            {
                return e1;
            }
            if (!TryOptional(provider, "provider", out var p, out var e2))
            {
                return e2;
            }
            var rules = (await ledger.GetMarketStatusAsync(ct)).Params;
            var list = await ledger.ListDeploymentsAsync(new DeploymentQuery(o, p, active ?? false), ct);
            return Ok(list.Select(d => MarketApiMapping.ToApi(rules, d)).ToArray());
        });
        app.MapGet("/v1/deployments/{owner}/{dseq}", async (string owner, string dseq, CancellationToken ct) =>
        {
            if (!TryAddress(owner, "owner", out var o, out var error))
            {
                return error;
            }
            if (!ulong.TryParse(dseq, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var d))
            {
                return Fail(StatusCodes.Status400BadRequest, "invalid_parameter", $"dseq: '{dseq}' is not a positive integer");
            }
            var rules = (await ledger.GetMarketStatusAsync(ct)).Params;
            return await ledger.GetDeploymentAsync(new DeploymentId(o, d), ct) is { } info
                ? Ok(MarketApiMapping.ToApi(rules, info))
                : Fail(StatusCodes.Status404NotFound, "not_found", $"{o} has no deployment {d}");
        });
        app.MapGet("/v1/orders", async (CancellationToken ct) =>
        {
            var rules = (await ledger.GetMarketStatusAsync(ct)).Params;
            var open = await ledger.ListOpenOrdersAsync(ct);
            return Ok(open.Select(o => new ApiOrderEntry(new ApiOrderId(o.Id.Owner.ToString(), MarketApiMapping.Dseq(o.Id.Dseq), o.Id.Gseq, o.Id.Oseq), o.Group, o.Spec,
                MarketApiMapping.Coin(rules, o.CeilingPerBlock), o.CreatedAt, o.Bids.Select(b => MarketApiMapping.ToApi(rules, b)).ToArray())).ToArray());
        });
        app.MapGet("/v1/bids", async (string? owner, string? dseq, CancellationToken ct) =>
        {
            if (owner is null || dseq is null || !TryAddress(owner, "owner", out var o, out _)
                || !ulong.TryParse(dseq, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var d))
            {
                return Fail(StatusCodes.Status400BadRequest, "invalid_parameter", "owner and dseq: both are required (an address and a positive integer)");
            }
            var rules = (await ledger.GetMarketStatusAsync(ct)).Params;
            var info = await ledger.GetDeploymentAsync(new DeploymentId(o, d), ct);
            return info is null
                ? Fail(StatusCodes.Status404NotFound, "not_found", $"{o} has no deployment {d}")
                : Ok(info.Groups.SelectMany(g => g.Orders).SelectMany(x => x.Bids).Select(b => new ApiBidEntry(MarketApiMapping.ToApi(rules, b))).ToArray());
        });
        app.MapGet("/v1/leases", async (string? owner, string? provider, bool? active, CancellationToken ct) =>
        {
            if (!TryOptional(owner, "owner", out var o, out var e1))
            {
                return e1;
            }
            if (!TryOptional(provider, "provider", out var p, out var e2))
            {
                return e2;
            }
            var rules = (await ledger.GetMarketStatusAsync(ct)).Params;
            var leases = await ledger.ListLeasesAsync(new LeaseQuery(o, p, active ?? false), ct);
            return Ok(leases.Select(l => MarketApiMapping.ToApi(rules, l)).ToArray());
        });
        return app;
    }

    /// <summary>A ledger refusal code as the API writes it: snake_case (<c>insufficient_balance</c>).</summary>
    public static string ErrorCode(LedgerError code) => JsonNamingPolicy.SnakeCaseLower.ConvertName(code.ToString());

    private static IResult Ok<T>(T value) => Results.Json(new ApiEnvelope<T>(value), MarketJson.Options);

    private static IResult Fail(int status, string error, string message) => Results.Json(new ApiError(error, message), MarketJson.Options, statusCode: status);

    private static bool TryOptional(string? text, string field, out Address? address, out IResult error)
    {
        address = null;
        error = Results.Empty;
        if (text is null)
        {
            return true;
        }
        if (!TryAddress(text, field, out var a, out error))
        {
            return false;
        }
        address = a;
        return true;
    }

    private static bool TryAddress(string text, string field, out Address address, out IResult error)
    {
        if (Address.TryParse(text, out address, out _))
        {
            error = Results.Empty;
            return true;
        }
        error = Fail(StatusCodes.Status400BadRequest, "invalid_parameter", $"{field}: '{text}' is not a 0x address");
        return false;
    }
}

/// <summary>An open order for bid engines (<c>GET /v1/orders</c>): its id, group spec, ceiling and the bids it has.</summary>
public sealed record ApiOrderEntry(ApiOrderId Id, string Group, GroupSpec Spec, ApiCoin Ceiling, ulong CreatedAt, IReadOnlyList<ApiBid> Bids);
