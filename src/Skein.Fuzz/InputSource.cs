using System.Buffers.Binary;
using System.Text;
using Skein.Core;

namespace Skein.Fuzz;

/// <summary>
/// Makes a target's inputs from one seeded generator: pure random bytes, stacked mutations of the seeds and of inputs
/// the target accepted (bit flips, byte inserts and deletes, truncation, splicing, boundary numbers, huge lengths,
/// dictionary tokens, long repeats for deep nesting and alias bombs), and the target's structured generator.
/// </summary>
internal sealed class InputSource(FuzzTarget target, DeterministicRandom rng)
{
    private const int MaxPool = 512;

    private readonly List<byte[]> _pool = target.Seeds.Count > 0 ? [.. target.Seeds] : [[]];
    private readonly HashSet<string> _known = new(target.Seeds.Select(Key), StringComparer.Ordinal);

    public byte[] Next()
    {
        var roll = rng.NextInt(100);
        byte[] input;
        if (roll < 6)
        {
            input = RandomBytes(rng.NextInt(8) == 0 ? rng.NextInt(4096) : rng.NextInt(64));
        }
        else if (roll < 26 && target.Generate is { } generate)
        {
            input = TryGenerate(generate) ?? Mutate(Pick(), 1);
            if (rng.NextInt(3) == 0)
            {
                input = Mutate(input, 1 + rng.NextInt(2));
            }
        }
        else if (roll < 29)
        {
            input = Nest(Pick());
        }
        else
        {
            input = Mutate(Pick(), 1 + rng.NextInt(4));
        }
        return input.Length <= target.MaxInputBytes ? input : input[..target.MaxInputBytes];
    }

    private byte[]? TryGenerate(Func<DeterministicRandom, byte[]> generate)
    {
        try
        {
            return generate(rng);
        }
#pragma warning disable CA1031 // A generator that trips over its own value (one a parser also meets in mutated inputs) makes no input, not a finding.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    /// <summary>An accepted mutant joins the pool, so that later mutations start from deeper valid inputs.</summary>
    public void Accepted(byte[] input)
    {
        if (_pool.Count < MaxPool && input.Length <= 16 << 10 && _known.Add(Key(input)))
        {
            _pool.Add(input);
        }
    }

    private static string Key(byte[] input) => Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(input));

    private byte[] Pick() => _pool[rng.NextInt(_pool.Count)];

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)rng.NextUInt64();
        }
        return bytes;
    }

    private byte[] Mutate(byte[] original, int count)
    {
        var data = new List<byte>(original);
        for (var m = 0; m < count; m++)
        {
            MutateOnce(data);
        }
        return [.. data];
    }

    private void MutateOnce(List<byte> data)
    {
        var n = data.Count;
        switch (rng.NextInt(13))
        {
            case 0 when n > 0:
                data[rng.NextInt(n)] ^= (byte)(1 << rng.NextInt(8));
                break;
            case 1 when n > 0:
                data[rng.NextInt(n)] = Interesting.Bytes[rng.NextInt(Interesting.Bytes.Length)];
                break;
            case 2:
                data.InsertRange(rng.NextInt(n + 1), RandomBytes(1 + rng.NextInt(8)));
                break;
            case 3 when n > 0:
                {
                    var at = rng.NextInt(n);
                    data.RemoveRange(at, Math.Min(n - at, 1 + rng.NextInt(Math.Min(n, 32))));
                    break;
                }
            case 4 when n > 0:
                {
                    var keep = rng.NextInt(n);
                    data.RemoveRange(keep, n - keep);
                    break;
                }
            case 5 when n > 0:
                {
                    // A slice repeated: long strings, many entries, deep nesting when the slice opens a level.
                    var at = rng.NextInt(n);
                    var len = 1 + rng.NextInt(Math.Min(n - at, 64));
                    var times = rng.NextInt(4) == 0 ? 1 + rng.NextInt(2000) : 1 + rng.NextInt(8);
                    var slice = data.GetRange(at, len);
                    var insert = new List<byte>(len * times);
                    for (var t = 0; t < times && insert.Count < target.MaxInputBytes; t++)
                    {
                        insert.AddRange(slice);
                    }
                    data.InsertRange(at, insert);
                    break;
                }
            case 6:
                {
                    // Splice: the head of this input and the tail of another.
                    var other = Pick();
                    var cut = rng.NextInt(n + 1);
                    var from = rng.NextInt(other.Length + 1);
                    data.RemoveRange(cut, n - cut);
                    data.AddRange(other.AsSpan(from).ToArray());
                    break;
                }
            case 7 when n > 0:
                {
                    // A boundary integer over 1, 2, 4 or 8 bytes, either byte order: lengths, counts and offsets in binary headers.
                    var width = 1 << rng.NextInt(4);
                    var at = rng.NextInt(n);
                    Span<byte> word = stackalloc byte[8];
                    var value = Interesting.Integers[rng.NextInt(Interesting.Integers.Length)];
                    if (rng.NextInt(2) == 0)
                    {
                        BinaryPrimitives.WriteUInt64LittleEndian(word, value);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt64BigEndian(word, value << ((8 - width) * 8));
                    }
                    for (var k = 0; k < width && at + k < data.Count; k++)
                    {
                        data[at + k] = word[k];
                    }
                    break;
                }
            case 8:
                ReplaceNumber(data);
                break;
            case 9 or 10 when target.Dictionary.Count > 0:
                data.InsertRange(rng.NextInt(n + 1), target.Dictionary[rng.NextInt(target.Dictionary.Count)]);
                break;
            case 11 when target.Dictionary.Count > 0 && n > 0:
                {
                    var token = target.Dictionary[rng.NextInt(target.Dictionary.Count)];
                    var at = rng.NextInt(n);
                    data.RemoveRange(at, Math.Min(token.Length, n - at));
                    data.InsertRange(at, token);
                    break;
                }
            default:
                data.InsertRange(rng.NextInt(n + 1), Encoding.UTF8.GetBytes(Interesting.Texts[rng.NextInt(Interesting.Texts.Length)]));
                break;
        }
    }

    /// <summary>Replaces a run of ASCII digits (with its sign) by a boundary number written as text.</summary>
    private void ReplaceNumber(List<byte> data)
    {
        var digits = new List<int>();
        for (var i = 0; i < data.Count; i++)
        {
            if (data[i] is >= (byte)'0' and <= (byte)'9' && (i == 0 || data[i - 1] is < (byte)'0' or > (byte)'9'))
            {
                digits.Add(i);
            }
        }
        var number = Encoding.ASCII.GetBytes(Interesting.Numbers[rng.NextInt(Interesting.Numbers.Length)]);
        if (digits.Count == 0)
        {
            data.InsertRange(rng.NextInt(data.Count + 1), number);
            return;
        }
        var start = digits[rng.NextInt(digits.Count)];
        if (start > 0 && data[start - 1] == (byte)'-')
        {
            start--;
        }
        var end = start + 1;
        while (end < data.Count && data[end] is >= (byte)'0' and <= (byte)'9' or (byte)'.' or (byte)'e' or (byte)'E' or (byte)'+' or (byte)'-')
        {
            end++;
        }
        data.RemoveRange(start, end - start);
        data.InsertRange(start, number);
    }

    /// <summary>Deep nesting: an opening token repeated thousands of times at one place in a valid input.</summary>
    private byte[] Nest(byte[] input)
    {
        var opener = Interesting.Openers[rng.NextInt(Interesting.Openers.Length)];
        var depth = 100 + rng.NextInt(rng.NextInt(2) == 0 ? 1000 : 20_000);
        var at = rng.NextInt(input.Length + 1);
        var result = new List<byte>(input.Length + (depth * opener.Length));
        result.AddRange(input.AsSpan(0, at).ToArray());
        for (var i = 0; i < depth && result.Count < target.MaxInputBytes; i++)
        {
            result.AddRange(Encoding.UTF8.GetBytes(opener));
        }
        result.AddRange(input.AsSpan(at).ToArray());
        return [.. result];
    }
}
