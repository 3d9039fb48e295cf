namespace Skein.Console.Data;

/// <summary>The vote form: the button pressed says both the proposal and the option, as "3:no_with_veto".</summary>
public sealed class VoteForm
{
    public string Choice { get; set; } = "";

    /// <summary>The proposal and option of <see cref="Choice"/>, or an error naming the field.</summary>
    public (ulong ProposalId, string Option, string? Error) Parse()
    {
        var colon = Choice.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && ulong.TryParse(Choice.AsSpan(0, colon), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
            ? (id, Choice[(colon + 1)..], null)
            : (0, "", $"proposal_id: '{Choice}' does not name a proposal and an option");
    }
}
