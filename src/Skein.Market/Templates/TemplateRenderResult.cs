namespace Skein.Market.Templates;

/// <summary>A rendered template: the SDL text when every setting applied and the result validated, the reasons otherwise.</summary>
public sealed record TemplateRenderResult(string? Yaml, IReadOnlyList<string> Errors)
{
    public bool Ok => Yaml is not null && Errors.Count == 0;
}
