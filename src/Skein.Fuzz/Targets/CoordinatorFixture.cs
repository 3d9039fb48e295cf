using Skein.Coordinator;
using Skein.Coordinator.Blobs;
using Skein.Coordinator.Sessions;
using Skein.Coordinator.State;
using Skein.Ledger;
using Skein.Ledger.Crypto;
using Skein.Ledger.Storage;

namespace Skein.Fuzz.Targets;

/// <summary>
/// A coordinator's state without its server: an embedded ledger, blob store and index in a temporary folder, and one
/// signed-in node session, so that request handlers run as they do behind gRPC and HTTP. Deleted on dispose.
/// </summary>
internal sealed class CoordinatorFixture : IDisposable
{
    private CoordinatorFixture(string folder, CoordinatorContext context, string token)
    {
        Folder = folder;
        Context = context;
        Token = token;
    }

    public string Folder { get; }

    public CoordinatorContext Context { get; }

    /// <summary>The bearer token of a session of <see cref="LedgerFixture.Keys"/>[0].</summary>
    public string Token { get; }

    public static CoordinatorFixture Create()
    {
        var folder = Path.Combine(Path.GetTempPath(), "skein-fuzz-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)));
        Directory.CreateDirectory(folder);
        var ledger = EmbeddedLedger.OpenAsync(Path.Combine(folder, "ledger.db"), LedgerFixture.Genesis).GetAwaiter().GetResult();
        var options = new CoordinatorOptions { DataDirectory = folder, MaxUpdateBytes = 1 << 20 };
        var blobs = new BlobStore(new BlobStoreOptions(Path.Combine(folder, "blobs"), options.MaxUpdateBytes * 2));
        var index = new CoordinatorIndex(Path.Combine(folder, "coordinator.db"));
        index.AddTask(new HostedTask(1, System.Text.Encoding.UTF8.GetString(TaskSpecTarget.Create().Seeds[0]), ""));
        var sessions = new SessionStore(ledger.ChainId, TimeProvider.System);
        var node = LedgerFixture.Keys[0];
        var (challenge, expires) = sessions.IssueChallenge(node.Address);
        var (token, _) = sessions.Authenticate(node.Address, challenge, expires, LoginProof.Sign(node, ledger.ChainId, challenge, expires));
        var context = new CoordinatorContext(options, ledger, ledger.Params.Incentives, blobs, index, sessions, LedgerFixture.Keys[2]);
        return new CoordinatorFixture(folder, context, token);
    }

    public void Dispose()
    {
        Context.DisposeAsync().AsTask().GetAwaiter().GetResult();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // a file still held open by the OS; the temporary folder is cleaned up later
        }
    }
}
