using System.Collections.Concurrent;
using System.Security.Cryptography;
using Skein.Ledger;
using Skein.Ledger.Crypto;

namespace Skein.Coordinator.Sessions;

/// <summary>Why a session could not be opened or used; the message names the rule.</summary>
public sealed class SessionException(string message) : Exception(message);

/// <summary>
/// Challenge-response sessions: a node asks for a challenge, signs a <see cref="LoginProof"/> over it, and gets a
/// token bound to its address. Challenges are single-use and short-lived; tokens expire. Sessions live in memory
/// on purpose: they carry no accepted work, and after a restart a node simply signs in again.
/// </summary>
public sealed class SessionStore(ulong chainId, TimeProvider time, TimeSpan? challengeLifetime = null, TimeSpan? sessionLifetime = null)
{
    private readonly ConcurrentDictionary<Hash32, (Address Node, ulong Expires)> _challenges = new();
    private readonly ConcurrentDictionary<string, (Address Node, DateTimeOffset Expires)> _sessions = new(StringComparer.Ordinal);
    private readonly TimeSpan _challengeLifetime = challengeLifetime ?? TimeSpan.FromMinutes(1);
    private readonly TimeSpan _sessionLifetime = sessionLifetime ?? TimeSpan.FromHours(12);
    private readonly ConcurrentDictionary<Address, DateTimeOffset> _lastSeen = new();

    public ulong ChainId => chainId;

    public (Hash32 Challenge, ulong ExpiresUnixMs) IssueChallenge(Address node)
    {
        Prune();
        var challenge = LoginProof.NewChallenge();
        var expires = (ulong)(time.GetUtcNow() + _challengeLifetime).ToUnixTimeMilliseconds();
        _challenges[challenge] = (node, expires);
        return (challenge, expires);
    }

    /// <summary>Checks the signed challenge (once: a challenge cannot be replayed) and returns a session token.</summary>
    public (string Token, DateTimeOffset Expires) Authenticate(Address node, Hash32 challenge, ulong expiresUnixMs, ReadOnlySpan<byte> signature)
    {
        if (!_challenges.TryRemove(challenge, out var issued))
        {
            throw new SessionException("challenge: unknown or already used; ask for a new one (Hello)");
        }
        if (issued.Node != node || issued.Expires != expiresUnixMs)
        {
            throw new SessionException($"challenge: it was issued to {issued.Node} with another expiry");
        }
        if ((ulong)time.GetUtcNow().ToUnixTimeMilliseconds() > expiresUnixMs)
        {
            throw new SessionException("challenge: expired; ask for a new one (Hello)");
        }
        if (!LoginProof.Verify(chainId, node, challenge, expiresUnixMs, signature))
        {
            throw new SessionException($"signature: does not prove that {node} signed this challenge for chain {chainId}");
        }
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var expires = time.GetUtcNow() + _sessionLifetime;
        _sessions[token] = (node, expires);
        return (token, expires);
    }

    /// <summary>The address a bearer token belongs to; throws if the token is unknown or expired.</summary>
    public Address Resolve(string? authorization)
    {
        const string prefix = "Bearer ";
        if (authorization is null || !authorization.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new SessionException("authorization: missing; sign in with Hello and Authenticate, then send 'authorization: Bearer <token>'");
        }
        if (!_sessions.TryGetValue(authorization[prefix.Length..], out var session) || session.Expires < time.GetUtcNow())
        {
            throw new SessionException("authorization: unknown or expired session; sign in again");
        }
        _lastSeen[session.Node] = time.GetUtcNow();
        return session.Node;
    }

    /// <summary>Nodes that called with a valid session within the window (a node asks for work every few seconds while it runs).</summary>
    public int Online(TimeSpan window)
    {
        var since = time.GetUtcNow() - window;
        return _lastSeen.Count(kv => kv.Value >= since);
    }

    private void Prune()
    {
        var now = (ulong)time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (challenge, issued) in _challenges)
        {
            if (issued.Expires < now)
            {
                _challenges.TryRemove(challenge, out _);
            }
        }
        var nowOffset = time.GetUtcNow();
        foreach (var (token, session) in _sessions)
        {
            if (session.Expires < nowOffset)
            {
                _sessions.TryRemove(token, out _);
            }
        }
    }
}
