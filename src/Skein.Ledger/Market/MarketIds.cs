using System.Globalization;

namespace Skein.Ledger.Market;

/// <summary>A deployment's identity, as on Akash: its owner and a sequence number the owner picks (dseq).</summary>
public readonly record struct DeploymentId(Address Owner, ulong Dseq) : IComparable<DeploymentId>
{
    public static bool operator <(DeploymentId left, DeploymentId right) => left.CompareTo(right) < 0;

    public static bool operator <=(DeploymentId left, DeploymentId right) => left.CompareTo(right) <= 0;

    public static bool operator >(DeploymentId left, DeploymentId right) => left.CompareTo(right) > 0;

    public static bool operator >=(DeploymentId left, DeploymentId right) => left.CompareTo(right) >= 0;

    public int CompareTo(DeploymentId other)
    {
        var c = Owner.CompareTo(other.Owner);
        return c != 0 ? c : Dseq.CompareTo(other.Dseq);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Owner}/{Dseq}");
}

/// <summary>An order's identity: the deployment, its group (gseq, from 1) and the order's sequence in that group (oseq, from 1).</summary>
public readonly record struct OrderId(Address Owner, ulong Dseq, uint Gseq, uint Oseq) : IComparable<OrderId>
{
    public static bool operator <(OrderId left, OrderId right) => left.CompareTo(right) < 0;

    public static bool operator <=(OrderId left, OrderId right) => left.CompareTo(right) <= 0;

    public static bool operator >(OrderId left, OrderId right) => left.CompareTo(right) > 0;

    public static bool operator >=(OrderId left, OrderId right) => left.CompareTo(right) >= 0;

    public DeploymentId Deployment => new(Owner, Dseq);

    public int CompareTo(OrderId other)
    {
        var c = Deployment.CompareTo(other.Deployment);
        if (c != 0)
        {
            return c;
        }
        c = Gseq.CompareTo(other.Gseq);
        return c != 0 ? c : Oseq.CompareTo(other.Oseq);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Owner}/{Dseq}/{Gseq}/{Oseq}");
}

/// <summary>A bid's or lease's identity: the order and the provider (Akash's lease id has the same five parts).</summary>
public readonly record struct LeaseId(Address Owner, ulong Dseq, uint Gseq, uint Oseq, Address Provider) : IComparable<LeaseId>
{
    public static bool operator <(LeaseId left, LeaseId right) => left.CompareTo(right) < 0;

    public static bool operator <=(LeaseId left, LeaseId right) => left.CompareTo(right) <= 0;

    public static bool operator >(LeaseId left, LeaseId right) => left.CompareTo(right) > 0;

    public static bool operator >=(LeaseId left, LeaseId right) => left.CompareTo(right) >= 0;

    public OrderId Order => new(Owner, Dseq, Gseq, Oseq);

    public DeploymentId Deployment => new(Owner, Dseq);

    public int CompareTo(LeaseId other)
    {
        var c = Order.CompareTo(other.Order);
        return c != 0 ? c : Provider.CompareTo(other.Provider);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Owner}/{Dseq}/{Gseq}/{Oseq}/{Provider}");

    /// <summary>Reads the five-part form <c>owner/dseq/gseq/oseq/provider</c>.</summary>
    public static LeaseId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var p = text.Split('/');
        if (p.Length != 5 || !ulong.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out var dseq)
            || !uint.TryParse(p[2], NumberStyles.None, CultureInfo.InvariantCulture, out var gseq) || !uint.TryParse(p[3], NumberStyles.None, CultureInfo.InvariantCulture, out var oseq))
        {
            throw new FormatException($"lease: '{text}' is not owner/dseq/gseq/oseq/provider");
        }
        return new LeaseId(Address.Parse(p[0]), dseq, gseq, oseq, Address.Parse(p[4]));
    }
}
