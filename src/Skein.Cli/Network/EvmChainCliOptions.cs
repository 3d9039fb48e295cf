using System.CommandLine;
using Skein.Coordinator;
using Skein.Ledger.Evm;

namespace Skein.Cli.Network;

/// <summary>The options that put a command's ledger on an EVM chain: --ledger evm, --rpc, --chain-id, --contract, --confirmations.</summary>
public sealed class EvmChainCliOptions
{
    public Option<string> Ledger { get; } = new("--ledger") { Description = "Where the ledger lives: embedded (a chain in the data folder) or evm (Skein's contracts on an EVM chain)", DefaultValueFactory = _ => "embedded" };

    public Option<string?> Rpc { get; } = new("--rpc") { Description = "With --ledger evm: the chain's JSON-RPC URL (skein chain up prints one)", HelpName = "url" };

    public Option<ulong?> ChainId { get; } = new("--chain-id") { Description = "With --ledger evm: the chain id the node must serve (refused otherwise)" };

    public Option<string?> Contract { get; } = new("--contract") { Description = "With --ledger evm: the SkeinLedger contract (skein ledger deploy-contracts prints it; default: the one this data folder used, or a new deployment from --genesis)", HelpName = "address" };

    public Option<int> Confirmations { get; } = new("--confirmations") { Description = "With --ledger evm: blocks that must hold a transaction before it counts", DefaultValueFactory = _ => 1 };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var o in new Option[] { Ledger, Rpc, ChainId, Contract, Confirmations })
        {
            command.Add(o);
        }
    }

    /// <summary>The EVM chain to use, or null for the embedded ledger; a misused option throws with its name and rule.</summary>
    public EvmChainOptions? Parse(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var backend = parse.GetValue(Ledger);
        if (backend == "embedded")
        {
            foreach (var (name, given) in new[] { ("--rpc", parse.GetValue(Rpc) is not null), ("--contract", parse.GetValue(Contract) is not null), ("--chain-id", parse.GetValue(ChainId) is not null) })
            {
                if (given)
                {
                    throw new ArgumentException($"{name}: only with --ledger evm");
                }
            }
            return null;
        }
        if (backend != "evm")
        {
            throw new ArgumentException($"--ledger: must be embedded or evm, got '{backend}'");
        }
        var rpcText = parse.GetValue(Rpc) ?? throw new ArgumentException("--rpc: required with --ledger evm (the chain's JSON-RPC URL, e.g. the one skein chain up prints)");
        if (!Uri.TryCreate(rpcText, UriKind.Absolute, out var rpc) || rpc.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--rpc: must be an http(s) URL, got '{rpcText}'");
        }
        if (parse.GetValue(ChainId) is 0)
        {
            throw new ArgumentException("--chain-id: must be > 0");
        }
        var options = new EvmLedgerOptions { Confirmations = parse.GetValue(Confirmations) };
        if (options.Validate() is { } invalid)
        {
            throw new ArgumentException("--" + invalid);
        }
        if (parse.GetValue(Contract) is { } contract && !Nethereum.Util.AddressUtil.Current.IsValidEthereumAddressHexFormat(contract))
        {
            throw new ArgumentException($"--contract: must be an address (0x and 40 hex digits), got '{contract}'");
        }
        return new EvmChainOptions(rpc, parse.GetValue(ChainId), parse.GetValue(Contract)) { Ledger = options };
    }
}
