using SkiaSharp;

namespace Skein.Learning.Tests;

/// <summary>Image folders that tests import: PNGs drawn with SkiaSharp, seeded (shared with Skein.Cli.Tests).</summary>
internal static class ImageImportFixtures
{
    /// <summary>
    /// Three classes a model can tell apart: horizontal bars, vertical bars, a ring; drawn at 32x32 (so they are
    /// resized) with a seeded jitter of position and thickness, light on dark.
    /// </summary>
    internal static void MakeImageFolder(string root, int perClass, int size = 32, ulong seed = 7)
    {
        var random = new Random((int)seed);
        foreach (var name in new[] { "bars", "columns", "ring" })
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (var i = 0; i < perClass; i++)
            {
                using var bitmap = new SKBitmap(size, size);
                using (var canvas = new SKCanvas(bitmap))
                {
                    canvas.Clear(SKColors.Black);
                    using var paint = new SKPaint { Color = SKColors.White, StrokeWidth = 2 + random.Next(3), Style = SKPaintStyle.Stroke, IsAntialias = true };
                    var offset = random.Next(-3, 4);
                    switch (name)
                    {
                        case "bars":
                            for (var y = 6; y < size; y += 8)
                            {
                                canvas.DrawLine(2, y + offset, size - 2, y + offset, paint);
                            }
                            break;
                        case "columns":
                            for (var x = 6; x < size; x += 8)
                            {
                                canvas.DrawLine(x + offset, 2, x + offset, size - 2, paint);
                            }
                            break;
                        default:
                            canvas.DrawCircle((size / 2f) + offset, (size / 2f) - offset, (size / 3f) + random.Next(-2, 3), paint);
                            break;
                    }
                }
                WritePng(bitmap, Path.Combine(root, name, $"{i:000}.png"));
            }
        }
    }

    internal static void WritePng(SKBitmap bitmap, string path)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }
}
