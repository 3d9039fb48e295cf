using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Skein.Market.Sdl;

/// <summary>
/// Passes YAML events through while counting them: nesting deeper than <see cref="MaxDepth"/> (which the recursive
/// tree builder would pay for in stack, and YamlDotNet's scanner in time: 100,000 '[' took 25 s) or more than
/// <see cref="MaxEvents"/> events end the parse with a <see cref="YamlException"/>.
/// </summary>
internal sealed class LimitedYamlParser(IParser inner) : IParser
{
    /// <summary>Far deeper than any SDL (about 8 levels) and far below what the stack holds.</summary>
    public const int MaxDepth = 64;

    /// <summary>A large SDL has a few thousand events.</summary>
    public const int MaxEvents = 100_000;

    private int _depth;
    private int _events;

    public ParsingEvent? Current => inner.Current;

    public bool MoveNext()
    {
        if (!inner.MoveNext())
        {
            return false;
        }
        var current = inner.Current!;
        if (++_events > MaxEvents)
        {
            throw new YamlException(current.Start, current.End, $"the file expands to more than {MaxEvents} YAML nodes (aliases and merge keys included)");
        }
        if (current is MappingStart or SequenceStart && ++_depth > MaxDepth)
        {
            throw new YamlException(current.Start, current.End, $"nested deeper than {MaxDepth} levels");
        }
        if (current is MappingEnd or SequenceEnd)
        {
            _depth--;
        }
        return true;
    }
}
