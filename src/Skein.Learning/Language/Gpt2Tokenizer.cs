using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Skein.Learning.Language;

/// <summary>
/// GPT-2's byte-level BPE from a Hugging Face folder's <c>vocab.json</c> and <c>merges.txt</c>, through
/// Microsoft.ML.Tokenizers; byte-level models need none (their tokens are the bytes).
/// </summary>
public sealed partial class Gpt2Tokenizer
{
    public const string VocabularyFile = "vocab.json";

    public const string MergesFile = "merges.txt";

    private readonly Tokenizer _tokenizer;

    private Gpt2Tokenizer(Tokenizer tokenizer, int maxId)
    {
        _tokenizer = tokenizer;
        MaxId = maxId;
    }

    /// <summary>The largest id in the vocabulary: the model's vocab_size must exceed it.</summary>
    public int MaxId { get; }

    /// <summary>Reads both files from <paramref name="folder"/>; null if neither is there, an error if only one is.</summary>
    public static Gpt2Tokenizer? TryLoad(string folder)
    {
        var vocabPath = Path.Combine(folder, VocabularyFile);
        var mergesPath = Path.Combine(folder, MergesFile);
        var (hasVocab, hasMerges) = (File.Exists(vocabPath), File.Exists(mergesPath));
        if (!hasVocab && !hasMerges)
        {
            return null;
        }
        if (hasVocab != hasMerges)
        {
            throw new Gpt2CheckpointException($"{folder}: {(hasVocab ? MergesFile : VocabularyFile)} is missing; the GPT-2 tokenizer needs both {VocabularyFile} and {MergesFile}");
        }
        return Create(File.ReadAllText(vocabPath), File.ReadAllLines(mergesPath));
    }

    /// <summary>Builds the tokenizer from the text of <c>vocab.json</c> and the lines of <c>merges.txt</c>.</summary>
    public static Gpt2Tokenizer Create(string vocabularyJson, IEnumerable<string> mergeLines)
    {
        ArgumentNullException.ThrowIfNull(vocabularyJson);
        ArgumentNullException.ThrowIfNull(mergeLines);
        Dictionary<string, int> vocabulary;
        try
        {
            vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(vocabularyJson)
                ?? throw new Gpt2CheckpointException($"{VocabularyFile} is null, expected an object of token to id");
        }
        catch (JsonException ex)
        {
            throw new Gpt2CheckpointException($"{VocabularyFile} is not an object of token to integer id: {ex.Message}");
        }
        if (vocabulary.Count == 0 || vocabulary.Values.Any(id => id < 0))
        {
            throw new Gpt2CheckpointException($"{VocabularyFile} must map at least one token, every id >= 0");
        }
        // merges.txt starts with a "#version" line; blank lines carry no merge.
        var merges = mergeLines.Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal)).ToList();
        var bad = merges.FindIndex(l => l.Split(' ').Length != 2);
        if (bad >= 0)
        {
            throw new Gpt2CheckpointException($"{MergesFile}: merge '{merges[bad]}' is not two tokens separated by one space");
        }
        var options = new BpeOptions(vocabulary)
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(Gpt2Split(), null),
        };
        return new Gpt2Tokenizer(BpeTokenizer.Create(options), vocabulary.Values.Max());
    }

    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _tokenizer.EncodeToIds(text);
    }

    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return _tokenizer.Decode(ids);
    }

    // GPT-2's pre-tokenization pattern (openai/gpt-2 encoder.py): contractions, letters, digits, other symbols,
    // each optionally after one space, then whitespace runs.
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2Split();
}
