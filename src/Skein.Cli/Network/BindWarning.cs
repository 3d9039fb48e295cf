using System.Net;

namespace Skein.Cli.Network;

/// <summary>The warning a server command prints when its --host reaches beyond loopback: what is then exposed, and how.</summary>
public static class BindWarning
{
    /// <summary>True for localhost and loopback addresses (127.0.0.0/8, ::1): only this machine can connect.</summary>
    public static bool IsLoopback(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    /// <summary>`skein coordinator --host`: null on loopback, else what other machines can now reach.</summary>
    public static string? For(string host, bool tls, bool console)
    {
        if (IsLoopback(host))
        {
            return null;
        }
        var exposed = "the gRPC port for nodes (uploads need a signed-in node) and the JSON API, which anyone can read (tasks, rounds, accounts, models and updates)";
        if (console)
        {
            // The console has no certificate of its own and no sign-in: its create-task form acts with the coordinator's key.
            exposed += ", and the console (plain HTTP even with --tls-cert; anyone can read it and create tasks this coordinator hosts, paid for from its key's balance)";
        }
        var transport = tls
            ? "TLS is on (--tls-cert): nodes and verifiers must pin its certificate with --tls-pin."
            : "No --tls-cert: all traffic, updates included, is unencrypted and can be read or altered on the way; make a certificate with `skein tls new` and pass --tls-cert.";
        return $"skein: warning: --host {host} is beyond loopback; other machines can reach {exposed}. {transport}";
    }

    /// <summary>`skein console --host`: null on loopback; with a key, anyone who reaches the console acts with it.</summary>
    public static string? Console(string host, bool acting)
    {
        if (IsLoopback(host))
        {
            return null;
        }
        var what = acting
            ? "its forms act with the console's key (stake, delegate, create tasks, deploy, propose and vote): anyone who reaches it spends from that key; use --read-only, or keep it on loopback and tunnel"
            : "read-only (no key), so it shows the ledger, rounds and market to anyone";
        return $"skein: warning: --host {host} is beyond loopback; other machines can reach the console over plain HTTP (no TLS, no sign-in): {what}.";
    }

    /// <summary>`skein provider --host`: null on loopback; the endpoint is meant for tenants, but it has no TLS.</summary>
    public static string? Provider(string host)
    {
        if (IsLoopback(host))
        {
            return null;
        }
        return $"skein: warning: --host {host} is beyond loopback; other machines can reach the provider's endpoint over plain HTTP (no TLS): "
            + "status, quotes and lease status for anyone; manifests and logs only on a tenant's signed request, but a manifest, with the node key inside it, "
            + "travels unencrypted unless a TLS proxy fronts the endpoint (--public-url https://...).";
    }
}
