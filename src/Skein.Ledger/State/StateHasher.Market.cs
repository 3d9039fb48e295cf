using Skein.Ledger.Market;

namespace Skein.Ledger.State;

/// <summary>The market's part of the state root: providers, audits, deployments with groups, orders, bids, leases and escrow.</summary>
public static partial class StateHasher
{
    private static void WriteMarket(Writer w, MarketState market)
    {
        w.Text("market-v1");
        w.U64((ulong)market.Providers.Count);
        foreach (var p in market.Providers.Values)
        {
            w.Address(p.Owner);
            w.Text(p.HostUri);
            WriteMap(w, p.Attributes);
            w.U64(p.Capacity.CpuMillis);
            w.U64(p.Capacity.MemoryBytes);
            w.U64(p.Capacity.StorageBytes);
            w.U64((ulong)p.Capacity.Gpus.Count);
            foreach (var g in p.Capacity.Gpus)
            {
                w.Text(g.Vendor);
                w.Text(g.Model);
                w.U64(g.Count);
                w.Text(g.Ram ?? "");
                w.Text(g.Interface ?? "");
            }
            w.U64(p.RegisteredAt);
        }
        w.U64((ulong)market.Audits.Count);
        foreach (var ((auditor, provider), attributes) in market.Audits)
        {
            w.Address(auditor);
            w.Address(provider);
            WriteMap(w, attributes);
        }
        w.U64((ulong)market.Deployments.Count);
        foreach (var d in market.Deployments.Values)
        {
            w.Address(d.Id.Owner);
            w.U64(d.Id.Dseq);
            w.Hash(d.ManifestHash);
            w.U64(d.CreatedAt);
            w.U64((byte)d.Status);
            w.U64(d.ClosedAt ?? ulong.MaxValue);
            w.Text(d.CloseReason ?? "");
            w.U128(d.Escrow.Balance);
            w.U128(d.Escrow.Deposited);
            w.U128(d.Escrow.Transferred);
            w.U64(d.Escrow.SettledAt);
            w.Bool(d.Escrow.Overdrawn);
            w.U64((ulong)d.Groups.Count);
            foreach (var g in d.Groups)
            {
                w.U64(g.Gseq);
                w.Text(g.SpecJson);
                w.U128(g.CeilingPerBlock);
                w.U64((ulong)g.Orders.Count);
                foreach (var o in g.Orders)
                {
                    WriteOrder(w, o);
                }
            }
        }
    }

    private static void WriteOrder(Writer w, OrderState o)
    {
        w.U64(o.Oseq);
        w.U64(o.CreatedAt);
        w.U64((byte)o.Status);
        w.U64((ulong)o.Bids.Count);
        foreach (var b in o.Bids.Values)
        {
            w.Address(b.Provider);
            w.U128(b.Price);
            w.U64(b.CreatedAt);
            w.U64((byte)b.Status);
            w.U128(b.DepositHeld);
        }
        w.Bool(o.Lease is not null);
        if (o.Lease is { } l)
        {
            w.Address(l.Provider);
            w.U128(l.Price);
            w.U64(l.StartedAt);
            w.U64((byte)l.Status);
            w.U64(l.ClosedAt ?? ulong.MaxValue);
            w.Text(l.CloseReason ?? "");
            w.U128(l.Accrued);
            w.U128(l.Withdrawn);
        }
    }

    private static void WriteMap(Writer w, SortedDictionary<string, string> map)
    {
        w.U64((ulong)map.Count);
        foreach (var (k, v) in map)
        {
            w.Text(k);
            w.Text(v);
        }
    }
}
