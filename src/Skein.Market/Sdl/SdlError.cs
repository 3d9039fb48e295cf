namespace Skein.Market.Sdl;

/// <summary>One rule an SDL file breaks: where (a dotted path such as <c>services.web.expose[0].port</c>) and what.</summary>
public sealed record SdlError(string Path, string Message)
{
    /// <summary>The file the error is in, as the user named it.</summary>
    public string File { get; init; } = SdlDocument.DefaultFileName;

    /// <summary>The error as the CLI prints it: <c>file: path: message</c>.</summary>
    public override string ToString() => $"{File}: {Path}: {Message}";
}

/// <summary>What <see cref="SdlDocument.Parse"/> found: the document when the file is valid, and every error otherwise.</summary>
public sealed record SdlParseResult(SdlDocument? Document, IReadOnlyList<SdlError> Errors)
{
    public bool Ok => Document is not null && Errors.Count == 0;
}
