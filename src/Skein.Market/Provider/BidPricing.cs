using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Skein.Ledger.Market;

namespace Skein.Market.Provider;

/// <summary>A provider's price for a group per block (in base units), or why it will not bid.</summary>
public sealed record PriceQuote(UInt128? PricePerBlock, string? Reason)
{
    public static PriceQuote Price(UInt128 price) => new(price, null);

    public static PriceQuote NoBid(string reason) => new(null, reason);
}

/// <summary>How a provider prices an order; the GPU models it would assign are given, so a price can depend on them.</summary>
public interface IBidPricing
{
    /// <summary>A short description for the provider's status page ("scale", "script /path").</summary>
    string Name { get; }

    Task<PriceQuote> QuoteAsync(GroupSpec spec, UInt128 ceiling, IReadOnlyList<string> assignedGpuModels, MarketParams rules, CancellationToken cancellationToken);
}

/// <summary>
/// Akash's linear pricing, per resource, in the market's denomination per block: CPU per core, memory and storage
/// per GiB, and a price per GPU by model. Unlike Akash's stock price script, which charges the dearest model when
/// the tenant leaves the model open, a GPU is priced as the model the provider would actually assign.
/// </summary>
public sealed record ScalePricing(decimal CpuPerCore, decimal MemoryPerGiB, decimal StoragePerGiB, IReadOnlyDictionary<string, decimal> GpuPerUnit, decimal DefaultGpuPerUnit) : IBidPricing
{
    public string Name => "scale";

    public Task<PriceQuote> QuoteAsync(GroupSpec spec, UInt128 ceiling, IReadOnlyList<string> assignedGpuModels, MarketParams rules, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(assignedGpuModels);
        ArgumentNullException.ThrowIfNull(rules);
        decimal total = 0;
        var gpuIndex = 0;
        const decimal GiB = 1L << 30;
        foreach (var r in spec.Resources)
        {
            var one = (r.Units.CpuMillis / 1000m * CpuPerCore) + (r.Units.MemoryBytes / GiB * MemoryPerGiB) + (r.Units.StorageBytes / GiB * StoragePerGiB);
            for (var g = 0; g < r.Units.GpuUnits * r.Count; g++)
            {
                var model = gpuIndex < assignedGpuModels.Count ? assignedGpuModels[gpuIndex] : "";
                gpuIndex++;
                total += GpuPerUnit.TryGetValue(model, out var p) ? p : DefaultGpuPerUnit;
            }
            total += one * r.Count;
        }
        // Prices are quoted to a millionth of the denomination; round up so a tiny order is never free.
        var rounded = Math.Ceiling(total * 1_000_000m) / 1_000_000m;
        if (rounded <= 0)
        {
            return Task.FromResult(PriceQuote.NoBid("the price scale gives 0 for this order"));
        }
        var amount = rounded.ToString("0.######", CultureInfo.InvariantCulture);
        return Task.FromResult(PriceQuote.Price(rules.ToBaseUnits(new DecCoin(rules.Denom, amount), "price")));
    }
}

/// <summary>
/// Akash's price script contract: the order as JSON on stdin (<see cref="PriceScriptRequest"/>), a decimal price per
/// block on stdout; a non-zero exit, an empty answer or 0 means no bid, and so does a script that overruns its time.
/// </summary>
public sealed class ScriptPricing(string path, TimeSpan timeout) : IBidPricing
{
    public string Name => $"script {path}";

    public async Task<PriceQuote> QuoteAsync(GroupSpec spec, UInt128 ceiling, IReadOnlyList<string> assignedGpuModels, MarketParams rules, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var request = JsonSerializer.Serialize(PriceScriptRequest.From(spec, rules.Denom, rules.FromBaseUnits(ceiling)));
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return PriceQuote.NoBid($"price script {path} could not start: {ex.Message}");
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            // Read while writing: a script may answer without reading its input, and may exit before the order is written.
            var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var errors = process.StandardError.ReadToEndAsync(deadline.Token);
            try
            {
                await process.StandardInput.WriteAsync(request.AsMemory(), deadline.Token);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // Broken pipe: the script has stopped reading (or exited); its answer and exit code still decide.
                // Closing flushes what is left and fails the same way once; after that the writer is closed for good.
                try
                {
                    process.StandardInput.Dispose();
                }
                catch (IOException)
                {
                }
            }
            await process.WaitForExitAsync(deadline.Token);
            var text = (await output).Trim();
            if (process.ExitCode != 0)
            {
                var why = (await errors).Trim();
                return PriceQuote.NoBid($"price script exited with {process.ExitCode}{(why.Length > 0 ? ": " + why[..Math.Min(200, why.Length)] : "")}");
            }
            if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price))
            {
                return PriceQuote.NoBid($"price script answered '{text[..Math.Min(80, text.Length)]}', not a decimal price");
            }
            if (price <= 0)
            {
                return PriceQuote.NoBid("price script answered 0: no bid");
            }
            try
            {
                return PriceQuote.Price(rules.ToBaseUnits(new DecCoin(rules.Denom, price.ToString(CultureInfo.InvariantCulture)), "price"));
            }
            catch (Skein.Ledger.LedgerException ex)
            {
                return PriceQuote.NoBid($"price script answered {text}: {ex.Message}");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            return PriceQuote.NoBid($"price script did not answer within {timeout.TotalSeconds:0.#} s");
        }
    }
}
