using System.Buffers.Binary;

namespace Skein.Market.Runtime;

/// <summary>
/// Decodes the Engine API's multiplexed log stream (containers without a TTY): frames of an 8-byte header
/// [stream: 1 stdout, 2 stderr; 0, 0, 0; payload size, big-endian uint32] and the payload. Frames may be split
/// anywhere across reads; each stream is assembled into lines of its own.
/// </summary>
internal sealed class DockerLogDemultiplexer
{
    private readonly byte[] _header = new byte[8];
    private readonly LineAssembler _stdout = new();
    private readonly LineAssembler _stderr = new();
    private int _headerFill;
    private int _remaining;
    private byte _stream;

    /// <summary>The lines completed by <paramref name="bytes"/>, in the order their streams finished them.</summary>
    public List<string> Append(ReadOnlySpan<byte> bytes)
    {
        var lines = new List<string>();
        while (!bytes.IsEmpty)
        {
            if (_remaining == 0)
            {
                var take = Math.Min(8 - _headerFill, bytes.Length);
                bytes[..take].CopyTo(_header.AsSpan(_headerFill));
                _headerFill += take;
                bytes = bytes[take..];
                if (_headerFill < 8)
                {
                    break;
                }

                _headerFill = 0;
                _stream = _header[0];
                _remaining = checked((int)BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(4)));
                continue;
            }

            var chunk = Math.Min(_remaining, bytes.Length);
            lines.AddRange((_stream == 2 ? _stderr : _stdout).Append(bytes[..chunk]));
            _remaining -= chunk;
            bytes = bytes[chunk..];
        }

        return lines;
    }

    /// <summary>Unfinished last lines, once the stream has ended.</summary>
    public IEnumerable<string> Flush() => new[] { _stdout.Flush(), _stderr.Flush() }.OfType<string>();
}
