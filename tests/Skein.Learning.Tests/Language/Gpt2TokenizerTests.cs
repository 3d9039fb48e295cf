using System.Text.Json;
using Skein.Learning.Language;

namespace Skein.Learning.Tests.Language;

public sealed class Gpt2TokenizerTests
{
    /// <summary>GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others for 256 + n.</summary>
    private static Dictionary<string, int> ByteVocabulary()
    {
        var bytes = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToList();
        var chars = bytes.ToList();
        var n = 0;
        for (var b = 0; b < 256; b++)
        {
            if (!bytes.Contains(b))
            {
                bytes.Add(b);
                chars.Add(256 + n++);
            }
        }
        return chars.Select((c, id) => (c, id)).ToDictionary(p => ((char)p.c).ToString(), p => p.id);
    }

    private static string WriteTokenizer(string folder)
    {
        var vocabulary = ByteVocabulary();
        vocabulary["he"] = 256;
        vocabulary["Ġt"] = 257;
        vocabulary["Ġthe"] = 258;
        File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(vocabulary));
        File.WriteAllLines(Path.Combine(folder, "merges.txt"), ["#version: 0.2", "h e", "Ġ t", "Ġt he"]);
        return folder;
    }

    [Fact]
    public void A_tiny_bpe_applies_its_merges_and_round_trips_any_text()
    {
        var tokenizer = Gpt2Tokenizer.TryLoad(WriteTokenizer(Directory.CreateTempSubdirectory("skein-bpe-").FullName));

        Assert.NotNull(tokenizer);
        Assert.Equal(258, tokenizer.MaxId);
        var ids = tokenizer.Encode("he said the");
        // "he" and " the" merge; " said" stays bytes (the space as Ġ, id 220 as in GPT-2).
        Assert.Equal([256, 220, 82, 64, 72, 67, 258], ids);
        foreach (var text in new[] { "he said the", "  the\tthe\nthé 42 ✓ ünïcödé!", "" })
        {
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        }
    }

    [Fact]
    public void A_checkpoint_folder_brings_its_tokenizer_and_refuses_ids_beyond_vocab_size()
    {
        var tiny = new TinyGpt2(2);
        var folder = WriteTokenizer(TinyGpt2.WriteFolder(TinyGpt2.Config(), tiny.Entries()));
        var error = Assert.Throws<Gpt2CheckpointException>(() => Gpt2Checkpoint.Load(folder));
        Assert.Contains("vocab.json has token id 258, outside config.json's vocab_size 50", error.Message);

        var config = TinyGpt2.Config();
        config["vocab_size"] = 259;
        var big = new TinyGpt2(2);
        big.Tensors["wte.weight"] = ([259, TinyGpt2.Width], new float[259 * TinyGpt2.Width]);
        var checkpoint = Gpt2Checkpoint.Load(WriteTokenizer(TinyGpt2.WriteFolder(config, big.Entries(withBuffersAndHead: false))));
        Assert.NotNull(checkpoint.Tokenizer);
        Assert.Equal("the", checkpoint.Tokenizer.Decode(checkpoint.Tokenizer.Encode("the")));
    }

    [Fact]
    public void Merges_without_vocab_are_refused()
    {
        var folder = Directory.CreateTempSubdirectory("skein-bpe-").FullName;
        File.WriteAllLines(Path.Combine(folder, "merges.txt"), ["#version: 0.2"]);
        Assert.Contains("vocab.json is missing", Assert.Throws<Gpt2CheckpointException>(() => Gpt2Tokenizer.TryLoad(folder)).Message);
    }
}
