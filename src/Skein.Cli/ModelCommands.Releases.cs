using System.CommandLine;
using Skein.Coordinator.Api;
using Skein.Ledger;
using Skein.Ledger.Storage;

namespace Skein.Cli;

/// <summary>`skein model list` with the releases recorded on a ledger: the registry names models by hash, and so does a passed model_release.</summary>
public static partial class ModelCommands
{
    /// <summary>A model's release, as a passed model_release proposal recorded it on the ledger.</summary>
    private sealed record Release(string Name, string License, ulong TaskId, ulong ProposalId);

    /// <summary>Where releases are read: the chain file of --ledger, a coordinator's API (--coordinator), or the chain `skein gov` uses when it exists.</summary>
    private sealed record ReleaseOptions(Option<string?> Ledger, Option<string?> Coordinator)
    {
        public static ReleaseOptions AddTo(Command command)
        {
            var options = new ReleaseOptions(
                new Option<string?>("--ledger") { Description = "The chain to read releases from (default: <data-dir>/ledger/chain.db, as skein gov, when it exists)", HelpName = "file" },
                new Option<string?>("--coordinator") { Description = "Read releases from this coordinator's JSON API instead (the 'api' URL it prints)", HelpName = "url" });
            command.Add(options.Ledger);
            command.Add(options.Coordinator);
            return options;
        }

        /// <summary>
        /// The releases by model hash (lowercase hex, as the registry names models) and where they were read; no
        /// releases and no source when neither option is given and the default chain file does not exist.
        /// </summary>
        public async Task<(IReadOnlyDictionary<string, Release> Releases, string? Source)> ReadAsync(ParseResult parse, string dataDirectory, CancellationToken ct)
        {
            var file = parse.GetValue(Ledger);
            var url = parse.GetValue(Coordinator);
            if (file is not null && url is not null)
            {
                throw new ArgumentException("--ledger, --coordinator: name one place to read releases from");
            }
            if (url is not null)
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    throw new ArgumentException($"--coordinator: must be an http(s) URL, got '{url}'");
                }
                using var api = new CoordinatorApiClient(uri);
                var served = await api.GetGovernanceAsync(ct);
                return (ByHash(served.Releases.OrderBy(r => r.Height).Select(r => (r.ModelHash, new Release(r.Name, r.License, r.TaskId, r.ProposalId)))), uri.ToString());
            }
            var path = Path.GetFullPath(file ?? Path.Combine(dataDirectory, "ledger", "chain.db"));
            if (!File.Exists(path))
            {
                return file is null ? (new Dictionary<string, Release>(), null) : throw new ArgumentException($"--ledger: no chain at {path}");
            }
            await using var ledger = await EmbeddedLedger.OpenAsync(path, cancellationToken: ct);
            var gov = await ledger.GetGovernanceAsync(ct);
            return (ByHash(gov.Releases.OrderBy(r => r.Release.Height)
                .Select(r => (r.Release.ModelHash.ToString(), new Release(r.Release.Name, r.Release.License, r.TaskId, r.Release.ProposalId)))), path);
        }

        /// <summary>A model released more than once keeps its latest release.</summary>
        private static Dictionary<string, Release> ByHash(IEnumerable<(string Hash, Release Release)> releases)
        {
            var map = new Dictionary<string, Release>(StringComparer.Ordinal);
            foreach (var (hash, release) in releases)
            {
                map[(hash.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hash[2..] : hash).ToLowerInvariant()] = release;
            }
            return map;
        }
    }

    private static object? ReleaseJson(Release? r) => r is null ? null : new { name = r.Name, license = r.License, task_id = r.TaskId, proposal_id = r.ProposalId };
}
