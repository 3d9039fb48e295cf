using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Skein.Market.Sdl;

/// <summary>
/// Passes YAML events through while counting them: nesting deeper than <see cref="MaxDepth"/> (which the recursive
/// tree builder would pay for in stack, and YamlDotNet's scanner in time: 100,000 '[' took 25 s) or more than
/// <see cref="MaxEvents"/> events end the parse with a <see cref="YamlException"/>, and so does an alias inside the
/// node it names (<c>&amp;a {*a: 1}</c>), on which YamlDotNet's tree recurses until the stack overflows.
/// </summary>
internal sealed class LimitedYamlParser(IParser inner) : IParser
{
    /// <summary>Far deeper than any SDL (about 8 levels) and far below what the stack holds.</summary>
    public const int MaxDepth = 64;

    /// <summary>A large SDL has a few thousand events.</summary>
    public const int MaxEvents = 100_000;

    private readonly Stack<string> _collections = new();
    private readonly HashSet<string> _openAnchors = new(StringComparer.Ordinal);
    private readonly HashSet<string> _definedAnchors = new(StringComparer.Ordinal);
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
        if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
        {
            _definedAnchors.Add(anchored.Anchor.Value);
        }
        switch (current)
        {
            case NodeEvent { Anchor.IsEmpty: false } node when current is MappingStart or SequenceStart:
                _openAnchors.Add(node.Anchor.Value);
                _collections.Push(node.Anchor.Value);
                break;
            case MappingStart or SequenceStart:
                _collections.Push("");
                break;
            case MappingEnd or SequenceEnd when _collections.Count > 0:
                _openAnchors.Remove(_collections.Pop());
                break;
            case NodeEvent { Anchor.IsEmpty: false } scalar:
                // A scalar redefines the anchor; an alias to it is no longer a cycle.
                _openAnchors.Remove(scalar.Anchor.Value);
                break;
            case AnchorAlias alias when !_definedAnchors.Contains(alias.Value.Value):
                // YAML wants the anchor first; YamlDotNet would keep a placeholder, and two placeholders compared
                // (two such aliases as keys of one mapping) recurse until the stack overflows.
                throw new YamlException(current.Start, current.End, $"the alias *{alias.Value.Value} names no anchor defined before it");
            case AnchorAlias alias when _openAnchors.Contains(alias.Value.Value):
                // YamlDotNet's tree compares such a node with itself without end, and the stack overflows.
                throw new YamlException(current.Start, current.End, $"the alias *{alias.Value.Value} is inside the node it names (a cycle)");
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
