using System.Buffers.Binary;
using System.Text;
using Skein.Market.Runtime;

namespace Skein.Market.Tests.Runtime;

public sealed class DockerLogDemultiplexerTests
{
    private static byte[] Frame(byte stream, string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var frame = new byte[8 + payload.Length];
        frame[0] = stream;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)payload.Length);
        payload.CopyTo(frame, 8);
        return frame;
    }

    [Fact]
    public void Frames_split_anywhere_decode_to_the_same_lines_per_stream()
    {
        byte[] wire = [.. Frame(1, "out one\nout "), .. Frame(2, "err ☃ one\n"), .. Frame(1, "two\r\n"), .. Frame(2, "tail")];
        for (var chunk = 1; chunk <= wire.Length; chunk++)
        {
            var demux = new DockerLogDemultiplexer();
            var lines = new List<string>();
            for (var at = 0; at < wire.Length; at += chunk)
            {
                lines.AddRange(demux.Append(wire.AsSpan(at, Math.Min(chunk, wire.Length - at))));
            }

            lines.AddRange(demux.Flush());
            Assert.Equal(["out one", "err ☃ one", "out two", "tail"], lines);
        }
    }

    [Fact]
    public void Empty_frames_and_an_empty_stream_give_no_lines()
    {
        var demux = new DockerLogDemultiplexer();

        Assert.Empty(demux.Append(Frame(1, string.Empty)));
        Assert.Empty(demux.Flush());
    }
}
