using System.Globalization;
using Skein.Ledger;
using Skein.Ledger.Market;
using Skein.Market.Api;
using Skein.Market.Deploy;
using Skein.Market.Sdl;

namespace Skein.Console.Data;

/// <summary>The deploy form as posted: the template's settings and profile, and the market options of `skein deploy` (all as typed).</summary>
public sealed class DeployForm
{
    private Dictionary<string, string?> _settings = new(StringComparer.Ordinal);

    /// <summary>The template's env variables (<c>--set KEY=value</c>), by key; a post without any binds an empty set, never null.</summary>
    public Dictionary<string, string?> Settings
    {
        get => _settings;
        set => _settings = value ?? new(StringComparer.Ordinal);
    }

    public string? Cpu { get; set; }

    public string? Memory { get; set; }

    /// <summary>The price ceiling per instance and block, in the market's denomination (<c>--set price=</c>).</summary>
    public string? Price { get; set; }

    public string? Deposit { get; set; } = "5";

    public string? MaxPrice { get; set; }

    public string? Provider { get; set; }

    public string? AutoTopUp { get; set; }

    public string? BidTimeout { get; set; } = "30";

    /// <summary>A form filled with the template's own values.</summary>
    public static DeployForm For(DeployTemplate template)
    {
        ArgumentNullException.ThrowIfNull(template);
        return new DeployForm
        {
            Settings = template.Settings.ToDictionary(s => s.Key, s => (string?)s.Default, StringComparer.Ordinal),
            Cpu = template.Cpu,
            Memory = template.Memory,
            Price = template.Price,
        };
    }
}

/// <summary>A checked deploy: the template, its settings, the flow's options, the stake to fund the node with, the tasks it joins and the runway to keep.</summary>
public sealed record DeployRequest(DeployTemplate Template, IReadOnlyDictionary<string, string> Sets, DeployOptions Options, UInt128 Stake, IReadOnlyList<ulong> Tasks,
    double? AutoTopUpHours);

/// <summary>The outcome of checking a deploy form: the request, or the errors by field (named as `skein deploy` names its options and the template its variables) and the template's own.</summary>
public sealed record DeployCheck(DeployRequest? Request, IReadOnlyDictionary<string, string> FieldErrors, IReadOnlyList<string> Errors)
{
    public bool Ok => Request is not null;
}

/// <summary>
/// Checks a deploy form with the rules `skein deploy` and `skein run-from-env` apply, before anything is signed:
/// amounts, addresses, the task, the console's balance, and the rendered template (the SDL must validate).
/// </summary>
public static class DeployChecks
{
    // Placeholders for the render check: the real key is made only once the form is accepted (making it takes a second).
    private static readonly Dictionary<string, string> KeyPlaceholders = new(StringComparer.Ordinal) { ["SKEIN_KEY_JSON"] = "{}", ["SKEIN_KEY_PASSWORD"] = "placeholder" };

    public static async Task<DeployCheck> CheckAsync(DeployTemplate template, DeployForm form, ConsoleData data, ConsoleActions actions, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(form);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(actions);
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!actions.CanAct)
        {
            return new DeployCheck(null, errors, ["this console is read-only"]);
        }
        var market = await data.MarketAsync(ct);
        var status = await market.GetMarketStatusAsync(ct);
        var rules = status.Params;

        var sets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in template.Settings)
        {
            var value = form.Settings.GetValueOrDefault(s.Key) ?? "";
            sets[s.Key] = s.Multiline ? value : value.Trim();
        }
        UInt128 stake = 0;
        var tasks = new List<ulong>();
        if (template.JoinsTask)
        {
            if (sets.TryGetValue("SKEIN_COORDINATOR", out var coordinator))
            {
                if (coordinator.Length == 0)
                {
                    errors["SKEIN_COORDINATOR"] = "SKEIN_COORDINATOR: must be set to the coordinator's gRPC URL";
                }
                else if (!Uri.TryCreate(coordinator, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    errors["SKEIN_COORDINATOR"] = $"SKEIN_COORDINATOR: must be an http(s) URL, got '{coordinator}'";
                }
            }
            if (sets.TryGetValue("SKEIN_TASK", out var taskText))
            {
                await CheckTasksAsync(taskText, tasks, errors, data, ct);
            }
            if (sets.TryGetValue("SKEIN_STAKE", out var stakeText) && stakeText.Length > 0)
            {
                try
                {
                    stake = Tokens.Parse(stakeText, "SKEIN_STAKE");
                }
                catch (FormatException ex)
                {
                    errors["SKEIN_STAKE"] = ex.Message;
                }
            }
        }
        CheckProfile(form, rules, sets, errors);

        UInt128 deposit = 0;
        try
        {
            deposit = MarketAmount.Parse(form.Deposit?.Trim() ?? "", rules, "deposit");
            if (deposit == 0)
            {
                errors["deposit"] = "deposit: must be > 0";
            }
        }
        catch (ArgumentException ex)
        {
            errors["deposit"] = ex.Message;
        }
        UInt128? maxPrice = null;
        if (!string.IsNullOrWhiteSpace(form.MaxPrice))
        {
            try
            {
                maxPrice = MarketApiMapping.Units(rules, new ApiCoin(rules.Denom, form.MaxPrice.Trim()), "max-price");
            }
            catch (LedgerException ex)
            {
                errors["max-price"] = ex.Message;
            }
        }
        Address? provider = null;
        if (!string.IsNullOrWhiteSpace(form.Provider))
        {
            if (!Address.TryParse(form.Provider.Trim(), out var p, out var why))
            {
                errors["provider"] = $"provider: {why}";
            }
            else if (await market.GetProviderAsync(p, ct) is null)
            {
                errors["provider"] = $"provider: {p} is not a registered provider";
            }
            else
            {
                provider = p;
            }
        }
        double? topUp = null;
        if (!string.IsNullOrWhiteSpace(form.AutoTopUp))
        {
            if (double.TryParse(form.AutoTopUp.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var hours) && hours > 0 && double.IsFinite(hours))
            {
                topUp = hours;
            }
            else
            {
                errors["auto-top-up"] = $"auto-top-up: must be a number of hours > 0, got '{form.AutoTopUp.Trim()}'";
            }
        }
        var bidTimeout = 30.0;
        if (!double.TryParse(form.BidTimeout?.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out bidTimeout) || bidTimeout is < 1 or > 600)
        {
            errors["bid-timeout"] = $"bid-timeout: must be seconds from 1 to 600, got '{form.BidTimeout?.Trim()}'";
        }

        if (errors.Count > 0)
        {
            return new DeployCheck(null, errors, []);
        }
        // The ledger would refuse either transfer anyway; asking first avoids funding a node whose deployment then fails.
        var balance = await market.GetBalanceAsync(actions.Key.Address, ct);
        if (deposit + stake > balance)
        {
            errors["deposit"] = $"deposit: {Tokens.Format(deposit)} {Tokens.Symbol} and a stake of {Tokens.Format(stake)} {Tokens.Symbol} come to more than the console's balance of {Tokens.Format(balance)} {Tokens.Symbol}";
            return new DeployCheck(null, errors, []);
        }
        var rendered = DeploySource.Load(TemplatePath(data, template), new Dictionary<string, string>(sets.Concat(KeyPlaceholders), StringComparer.Ordinal), data.Options.TemplatesRoot);
        if (!rendered.Ok)
        {
            return new DeployCheck(null, errors, rendered.Errors);
        }
        var options = new DeployOptions { Deposit = deposit, MaxPricePerBlock = maxPrice, Provider = provider, BidTimeout = TimeSpan.FromSeconds(bidTimeout) };
        return new DeployCheck(new DeployRequest(template, sets, options, stake, tasks, topUp), errors, []);
    }

    /// <summary>The template's folder: a full path, so that a folder of the same name in the working directory is never taken for it.</summary>
    public static string TemplatePath(ConsoleData data, DeployTemplate template)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(template);
        return Path.Combine(Path.GetFullPath(data.Options.TemplatesRoot ?? throw new InvalidOperationException("the console has no templates folder")), template.Name);
    }

    private static async Task CheckTasksAsync(string text, List<ulong> tasks, Dictionary<string, string> errors, ConsoleData data, CancellationToken ct)
    {
        // The same rule as `skein run-from-env`: comma-separated ids; and each must exist, or the node would wait forever.
        foreach (var t in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                errors["SKEIN_TASK"] = $"SKEIN_TASK: '{t}' is not a task id";
                return;
            }
            if (await data.TaskAsync(id, ct) is null)
            {
                errors["SKEIN_TASK"] = $"SKEIN_TASK: task {id} does not exist on the coordinator";
                return;
            }
            tasks.Add(id);
        }
    }

    private static void CheckProfile(DeployForm form, MarketParams rules, Dictionary<string, string> sets, Dictionary<string, string> errors)
    {
        if (!string.IsNullOrWhiteSpace(form.Cpu))
        {
            var cpu = form.Cpu.Trim();
            if (SdlUnits.TryParseCpu(cpu, out var millis) && millis > 0)
            {
                sets["cpu"] = cpu;
            }
            else
            {
                errors["cpu"] = $"cpu: '{cpu}' is not a CPU amount (cores, or millicores like 1500m)";
            }
        }
        if (!string.IsNullOrWhiteSpace(form.Memory))
        {
            var memory = form.Memory.Trim();
            if (SdlUnits.TryParseSize(memory, out var bytes) && bytes > 0)
            {
                sets["memory"] = memory;
            }
            else
            {
                errors["memory"] = $"memory: '{memory}' is not a size (e.g. 4Gi, 512Mi)";
            }
        }
        if (!string.IsNullOrWhiteSpace(form.Price))
        {
            var price = form.Price.Trim();
            if (SdlUnits.TryParseAmount(price, out var amount) && amount > 0)
            {
                sets["price"] = price;
                sets["denom"] = rules.Denom;
            }
            else
            {
                errors["price"] = $"price: must be a positive amount of {rules.Denom} per block, got '{price}'";
            }
        }
    }
}
