using System.Runtime.CompilerServices;

namespace Skein.Market.Runtime;

public sealed partial class ProcessRuntime
{
    public async IAsyncEnumerable<string> ReadLogsAsync(string id, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (_store.Get(id) is null)
        {
            throw WorkloadNotFoundException.For(Name, id);
        }

        var folder = new WorkloadFolder(_options.StateDirectory, id);
        var filter = new SecretFilter(folder.ReadSpec()?.Env ?? new Dictionary<string, string>());
        if (!File.Exists(folder.Log))
        {
            yield break;
        }

        // The wrapper appends to this file; share it for writing and deletion so that the workload never notices us.
        await using var stream = new FileStream(folder.Log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var lines = new LineAssembler();
        var buffer = new byte[16 * 1024];
        var draining = false;
        while (true)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read > 0)
            {
                foreach (var line in lines.Append(buffer.AsSpan(0, read)))
                {
                    yield return filter.Apply(line);
                }

                continue;
            }

            if (!follow || draining)
            {
                break;
            }

            // At the end of the file: wait for more while the workload lives; once it has ended, read what it wrote
            // last (before its wrapper ended, so it is in the file) and stop.
            if (await GetStatusAsync(id, cancellationToken) is not { State: WorkloadState.Running or WorkloadState.Starting })
            {
                draining = true;
                continue;
            }

            await Task.Delay(_options.PollInterval, _time, cancellationToken);
        }

        if (lines.Flush() is { } last)
        {
            yield return filter.Apply(last);
        }
    }
}
