using Skein.Node;

namespace Skein.Coordinator.Tests;

/// <summary>A validator's round of updates read from files one at a time, as the scorers walk them.</summary>
public sealed class UpdateFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-update-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Each_update_is_read_when_reached_and_only_the_last_one_is_held()
    {
        var paths = Enumerable.Range(0, 3).Select(i =>
        {
            var path = Path.Combine(_dir, $"{i}.bin");
            File.WriteAllBytes(path, [(byte)(10 + i), (byte)i]);
            return path;
        }).ToArray();
        var parsed = new List<byte>();
        var updates = new UpdateFiles(paths, bytes =>
        {
            parsed.Add(bytes[0]);
            return bytes.Select(b => (float)b).ToArray();
        });

        Assert.Equal(3, updates.Count);
        Assert.Empty(parsed);
        // A scorer reads an update twice in a row (its share, then its norm): one parse.
        Assert.Equal([10f, 0f], updates[0]);
        Assert.Same(updates[0], updates[0]);
        Assert.Equal([12f, 2f], updates[2]);
        Assert.Equal([10f, 0f], updates[0]);
        Assert.Equal(new byte[] { 10, 12, 10 }, parsed);
        Assert.Equal([11f, 1f], updates.Select(u => u.ToArray()).ElementAt(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => updates[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => updates[-1]);
    }
}
