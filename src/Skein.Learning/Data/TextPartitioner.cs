using Skein.Core;

namespace Skein.Learning.Data;

/// <summary>One node's share of a text corpus; <see cref="FirstYear"/> and <see cref="LastYear"/> bound its speeches.</summary>
public sealed record TextShard(string Name, IReadOnlyList<SotuSpeech> Speeches)
{
    public int FirstYear => Speeches.Min(s => s.Year);

    public int LastYear => Speeches.Max(s => s.Year);
}

/// <summary>A split of State of the Union addresses: trainers by era, validators on held-out speeches from every era.</summary>
public sealed record TextPartition(IReadOnlyList<TextShard> Trainers, IReadOnlyList<TextShard> Validators);

/// <summary>
/// Splits State of the Union addresses among nodes the way federated text data is really spread: each trainer
/// holds one contiguous era (its own presidents, parties and vocabulary), so the split is non-IID by year, while
/// validators judge on a seeded held-out sample drawn from all eras.
/// </summary>
public static class TextPartitioner
{
    /// <summary>
    /// Holds out round(<paramref name="heldOutFraction"/> × count) speeches (at least one per validator) chosen with
    /// <paramref name="seed"/> and dealt to the validators in year order; the rest, ordered by year, are cut into
    /// <paramref name="trainers"/> contiguous eras of near-equal size that never split a year.
    /// </summary>
    public static TextPartition ByEra(IReadOnlyList<SotuSpeech> speeches, int trainers, int validators, double heldOutFraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(speeches);
        ArgumentOutOfRangeException.ThrowIfLessThan(trainers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(validators);
        if (heldOutFraction is < 0 or >= 1 || double.IsNaN(heldOutFraction))
        {
            throw new ArgumentOutOfRangeException(nameof(heldOutFraction), heldOutFraction, "must be in [0, 1)");
        }
        var ordered = speeches.OrderBy(s => s.Year).ThenBy(s => s.Id, StringComparer.Ordinal).ToArray();
        var heldOutCount = validators == 0 ? 0 : Math.Max(validators, (int)Math.Round(heldOutFraction * ordered.Length));
        var heldOutIndices = DeterministicRandom.Derive(seed, "partition/text-held-out").SampleWithoutReplacement(ordered.Length, Math.Min(heldOutCount, ordered.Length));
        var heldOut = new HashSet<int>(heldOutIndices);

        var validatorSpeeches = Enumerable.Range(0, validators).Select(_ => new List<SotuSpeech>()).ToArray();
        for (var i = 0; i < heldOutIndices.Length; i++)
        {
            validatorSpeeches[i % validators].Add(ordered[heldOutIndices[i]]);
        }

        var years = ordered.Where((_, i) => !heldOut.Contains(i)).GroupBy(s => s.Year).Select(g => g.ToArray()).ToArray();
        if (years.Length < trainers)
        {
            throw new ArgumentException($"{years.Length} distinct years remain after holding out {heldOutIndices.Length} speeches; cannot give {trainers} trainers an era each", nameof(trainers));
        }
        var total = years.Sum(y => y.Length);
        var trainerSpeeches = Enumerable.Range(0, trainers).Select(_ => new List<SotuSpeech>()).ToArray();
        var t = 0;
        var assigned = 0;
        for (var y = 0; y < years.Length; y++)
        {
            trainerSpeeches[t].AddRange(years[y]);
            assigned += years[y].Length;
            var yearsLeft = years.Length - y - 1;
            var trainersLeft = trainers - t - 1;
            // Move on once this era has its share, or when every remaining year is needed to give each later trainer one.
            if (trainersLeft > 0 && (yearsLeft == trainersLeft || assigned * (long)trainers >= (t + 1L) * total))
            {
                t++;
            }
        }

        return new TextPartition(
            trainerSpeeches.Select((s, i) => new TextShard($"trainer-{i + 1:D2}", s)).ToArray(),
            validatorSpeeches.Select((s, i) => new TextShard($"validator-{i + 1:D2}", s)).ToArray());
    }

    /// <summary>
    /// Writes each shard as a folder of UTF-8 .txt files (one per speech, named by its id) under
    /// <paramref name="root"/>, which <see cref="TextFolderReader"/> reads back; returns the folders by shard name.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, string>> WriteFoldersAsync(TextPartition partition, string root, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(partition);
        var folders = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var shard in partition.Trainers.Concat(partition.Validators))
        {
            var folder = Directory.CreateDirectory(Path.Combine(root, shard.Name)).FullName;
            foreach (var speech in shard.Speeches)
            {
                await File.WriteAllTextAsync(Path.Combine(folder, speech.Id + ".txt"), speech.Text, cancellationToken);
            }
            folders[shard.Name] = folder;
        }
        return folders;
    }
}
