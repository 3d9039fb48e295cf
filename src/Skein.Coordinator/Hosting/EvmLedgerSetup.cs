using System.Text.Json;
using Microsoft.Extensions.Logging;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Evm;
using Skein.Ledger.Incentives;
using Skein.Ledger.State;

namespace Skein.Coordinator.Hosting;

/// <summary>What a coordinator on an EVM chain records in its data folder: which contracts on which chain it uses, so that a restart attaches to them again.</summary>
public sealed record EvmDeployment(ulong ChainId, string Ledger, string Tasks)
{
    public const string FileName = "evm.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static EvmDeployment? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<EvmDeployment>(File.ReadAllText(path), Json) : null;
    }

    public void Write(string folder)
    {
        var path = Path.Combine(folder, FileName);
        // Written whole, then moved: a crash leaves the old record or the new one, never half of one.
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}

/// <summary>Opens a coordinator's EVM ledger: the contract it was given, the one it used before, or a new deployment from a genesis.</summary>
public static partial class EvmLedgerSetup
{
    /// <summary>The ledger, relaying with the coordinator's own key (its EVM address pays the gas), and the settlement's parameters read from the chain.</summary>
    public static async Task<(ILedger Ledger, IncentiveParams Incentives)> OpenAsync(string folder, EvmChainOptions evm, LedgerKey key, Genesis? genesis, ILogger logger,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(evm);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(logger);
        if (evm.Ledger.Validate() is { } invalid)
        {
            throw new ArgumentException(invalid);
        }
        var recorded = EvmDeployment.Read(folder);
        EvmLedger ledger;
        if ((evm.Contract ?? recorded?.Ledger) is { } contract)
        {
            ledger = await EvmLedger.AttachAsync(evm.Rpc, key, contract, evm.Ledger, cancellationToken);
            LogAttached(logger, ledger.ContractAddress, ledger.TasksAddress, ledger.ChainId);
        }
        else if (genesis is not null)
        {
            if (evm.ChainId is { } wanted && wanted != genesis.ChainId)
            {
                throw new ArgumentException($"--chain-id: {wanted}, but the genesis is for chain {genesis.ChainId}");
            }
            ledger = await EvmLedger.DeployAsync(evm.Rpc, key, genesis, evm.Ledger, cancellationToken);
            LogDeployed(logger, ledger.ContractAddress, ledger.TasksAddress, ledger.ChainId);
        }
        else
        {
            throw new ArgumentException("--ledger evm: no contracts to use: pass --contract (from `skein ledger deploy-contracts`), or --genesis to deploy them");
        }
        try
        {
            if (evm.ChainId is { } expected && expected != ledger.ChainId)
            {
                throw new LedgerException(LedgerError.WrongChain, $"--chain-id: expected chain {expected}, the node at {evm.Rpc} serves chain {ledger.ChainId}");
            }
            if (recorded is not null && (recorded.ChainId != ledger.ChainId || !string.Equals(recorded.Ledger, ledger.ContractAddress, StringComparison.OrdinalIgnoreCase)))
            {
                throw new ArgumentException($"--contract: this data folder was used with {recorded.Ledger} on chain {recorded.ChainId}; "
                    + $"use a fresh --data-dir for {ledger.ContractAddress} on chain {ledger.ChainId}");
            }
            new EvmDeployment(ledger.ChainId, ledger.ContractAddress, ledger.TasksAddress).Write(folder);
            return (ledger, await ledger.GetIncentivesAsync(cancellationToken));
        }
        catch
        {
            await ledger.DisposeAsync();
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ledger: SkeinLedger {Ledger} and SkeinTasks {Tasks} on chain {Chain}")]
    private static partial void LogAttached(ILogger logger, string ledger, string tasks, ulong chain);

    [LoggerMessage(Level = LogLevel.Information, Message = "ledger: deployed SkeinLedger {Ledger} and SkeinTasks {Tasks} on chain {Chain}")]
    private static partial void LogDeployed(ILogger logger, string ledger, string tasks, ulong chain);
}
