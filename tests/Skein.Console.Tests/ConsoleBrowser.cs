using System.Net;
using System.Text.RegularExpressions;

namespace Skein.Console.Tests;

/// <summary>
/// What a browser without scripts does with the console: GET pages, keep cookies, and post a form with the hidden
/// fields the page rendered (Blazor's <c>_handler</c> naming the form, and the antiforgery token). Redirects are not
/// followed, so a test sees where a post sends it.
/// </summary>
public sealed partial class ConsoleBrowser : IDisposable
{
    private readonly HttpClient _http;

    public ConsoleBrowser(Uri console)
    {
        Cookies = new CookieContainer();
        _http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, UseCookies = true, AllowAutoRedirect = false })
        {
            BaseAddress = console,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public CookieContainer Cookies { get; }

    /// <summary>The page's HTML, decoded (so a test compares text, not entities); fails unless the answer is 200.</summary>
    public async Task<string> PageAsync(string path)
    {
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode}\n{html}");
        return WebUtility.HtmlDecode(html);
    }

    /// <summary>Loads <paramref name="path"/>, then posts its form <paramref name="formName"/> with the page's hidden fields and <paramref name="fields"/>.</summary>
    public async Task<HttpResponseMessage> SubmitAsync(string path, string formName, IReadOnlyDictionary<string, string> fields)
    {
        using var page = await _http.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var form = Forms().Matches(html).FirstOrDefault(m => Hidden(m.Value, "_handler") == formName)
            ?? throw new InvalidOperationException($"{path} has no form '{formName}'");
        var body = new Dictionary<string, string>(fields)
        {
            ["_handler"] = formName,
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(Hidden(form.Value, "__RequestVerificationToken") ?? throw new InvalidOperationException("the form has no antiforgery token")),
        };
        return await PostAsync(path, body);
    }

    /// <summary>Posts fields as a form would, with whatever cookies the browser holds.</summary>
    public async Task<HttpResponseMessage> PostAsync(string path, IReadOnlyDictionary<string, string> fields)
    {
        using var content = new FormUrlEncodedContent(fields);
        return await _http.PostAsync(new Uri(path, UriKind.Relative), content, TestContext.Current.CancellationToken);
    }

    private static string? Hidden(string form, string name)
    {
        foreach (Match input in Inputs().Matches(form))
        {
            if (Attribute(input.Value, "name") == name)
            {
                return Attribute(input.Value, "value");
            }
        }
        return null;
    }

    private static string? Attribute(string tag, string name)
    {
        var m = Regex.Match(tag, $"\\s{Regex.Escape(name)}=\"([^\"]*)\"");
        return m.Success ? m.Groups[1].Value : null;
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("<form\\b.*?</form>", RegexOptions.Singleline)]
    private static partial Regex Forms();

    [GeneratedRegex("<input\\b[^>]*>")]
    private static partial Regex Inputs();
}
