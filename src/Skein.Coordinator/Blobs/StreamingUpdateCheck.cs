using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Skein.Core;

namespace Skein.Coordinator.Blobs;

/// <summary>
/// The admission check of <see cref="SafeTensorsValidator"/> run on an update's bytes as they arrive, so that an
/// accepted upload is never read back and a bad one is refused at its first bad byte instead of after the transfer.
/// </summary>
/// <remarks>
/// Fed every byte from the first in order; <see cref="Covered"/> says whether it saw the whole file. An upload
/// resumed by a later call starts past byte 0, gets no check of this kind, and is validated from disk instead.
/// </remarks>
public sealed class StreamingUpdateCheck
{
    private readonly ParameterLayout _layout;
    private readonly long _size;
    private byte[] _head = new byte[8];
    private long _position;
    private long _dataStart = -1;
    private SafeTensorsHeader? _header;
    private int[]? _parameters;
    private int _carryLength;
    private uint _carry;

    /// <summary>A check of an update of <paramref name="size"/> bytes (the size its upload declared) for <paramref name="layout"/>.</summary>
    public StreamingUpdateCheck(ParameterLayout layout, long size)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        _layout = layout;
        _size = size;
    }

    /// <summary>True once all <c>size</c> bytes were fed and passed: the update needs no other check.</summary>
    public bool Covered => _header is not null && _position == _size && _carryLength == 0;

    /// <summary>Checks the next bytes; throws <see cref="UpdateRejectedException"/> naming the first problem, with the messages of <see cref="SafeTensorsValidator"/>.</summary>
    public void Feed(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > _size - _position)
        {
            throw new UpdateRejectedException($"not a safetensors file: more than the {_size} bytes declared");
        }
        if (_header is null)
        {
            bytes = FeedHeader(bytes);
            if (_header is null)
            {
                return;
            }
        }
        FeedData(bytes);
    }

    private ReadOnlySpan<byte> FeedHeader(ReadOnlySpan<byte> bytes)
    {
        SafeTensorsHeader header;
        try
        {
            if (_position < 8)
            {
                var take = (int)Math.Min(8 - _position, bytes.Length);
                bytes[..take].CopyTo(_head.AsSpan((int)_position));
                _position += take;
                bytes = bytes[take..];
                if (_position < 8)
                {
                    return bytes;
                }
                var headerLength = SafeTensors.ReadHeaderLength(_head, _size);
                var head = new byte[8 + (int)headerLength];
                _head.CopyTo(head, 0);
                _head = head;
            }
            var want = (int)Math.Min(_head.Length - _position, bytes.Length);
            bytes[..want].CopyTo(_head.AsSpan((int)_position));
            _position += want;
            bytes = bytes[want..];
            if (_position < _head.Length)
            {
                return bytes;
            }
            header = SafeTensors.ParseHeader(_head.AsSpan(8), _size - _head.Length);
        }
        catch (SafeTensorsFormatException ex)
        {
            throw new UpdateRejectedException($"not a safetensors file: {ex.Message}");
        }
        try
        {
            _parameters = _layout.Match(header);
        }
        catch (SafeTensorsFormatException ex)
        {
            // Core's messages already name the tensor: missing, extra, wrong dtype or wrong shape.
            throw new UpdateRejectedException($"does not match the model: {ex.Message}");
        }
        _dataStart = _head.Length;
        _header = header;
        _head = [];
        return bytes;
    }

    private void FeedData(ReadOnlySpan<byte> bytes)
    {
        // Every tensor is F32 (the layout match checked it) and the header leaves no holes, so the data section is
        // one run of floats; a float split between two chunks waits in _carry.
        if (_carryLength > 0)
        {
            var take = Math.Min(4 - _carryLength, bytes.Length);
            for (var i = 0; i < take; i++)
            {
                _carry |= (uint)bytes[i] << (8 * (_carryLength + i));
            }
            _carryLength += take;
            _position += take;
            bytes = bytes[take..];
            if (_carryLength < 4)
            {
                return;
            }
            var value = BitConverter.UInt32BitsToSingle(_carry);
            _carryLength = 0;
            _carry = 0;
            if (!float.IsFinite(value))
            {
                throw NonFinite(_position - 4, value);
            }
        }
        var whole = bytes.Length & ~3;
        var floats = MemoryMarshal.Cast<byte, float>(bytes[..whole]);
        // Not asked of an empty span, for which IsFiniteAll answers false.
        if (!floats.IsEmpty && !TensorPrimitives.IsFiniteAll(floats))
        {
            var j = 0;
            while (float.IsFinite(floats[j]))
            {
                j++;
            }
            throw NonFinite(_position + (4L * j), floats[j]);
        }
        _position += whole;
        for (var i = whole; i < bytes.Length; i++)
        {
            _carry |= (uint)bytes[i] << (8 * _carryLength++);
            _position++;
        }
    }

    private UpdateRejectedException NonFinite(long filePosition, float value)
    {
        var offset = filePosition - _dataStart;
        for (var k = 0; k < _header!.Tensors.Count; k++)
        {
            var t = _header.Tensors[k];
            if (offset >= t.Begin && offset < t.End)
            {
                return SafeTensorsValidator.NonFinite(_layout.Parameters[_parameters![k]], (offset - t.Begin) / 4, value);
            }
        }
        throw new InvalidOperationException($"data offset {offset} lies in no tensor");
    }
}
