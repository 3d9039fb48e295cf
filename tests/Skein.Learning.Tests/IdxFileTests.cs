using System.IO.Compression;
using Skein.Learning.Data;

namespace Skein.Learning.Tests;

public sealed class IdxFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skein-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Images(int n) => IdxFile.Encode([n, 2, 3], Enumerable.Range(0, n * 6).Select(i => (byte)i).ToArray());

    [Fact]
    public void Parses_dimensions_and_data()
    {
        var a = IdxFile.Parse(Images(4));
        Assert.Equal([4, 2, 3], a.Dimensions);
        Assert.Equal(6, a.ItemSize);
        Assert.Equal(24, a.Data.Length);
        Assert.Equal(23, a.Data[^1]);
    }

    [Fact]
    public void Reads_raw_and_gzip_files_alike()
    {
        var raw = Path.Combine(_dir, "raw");
        var gz = Path.Combine(_dir, "anything-without-gz-suffix");
        File.WriteAllBytes(raw, Images(3));
        using (var f = File.Create(gz))
        using (var z = new GZipStream(f, CompressionLevel.Fastest))
        {
            z.Write(Images(3));
        }
        Assert.Equal(IdxFile.Read(raw).Data, IdxFile.Read(gz).Data);
    }

    [Fact]
    public void Truncated_data_is_refused_with_file_name_and_sizes()
    {
        var path = Path.Combine(_dir, "train-images-idx3-ubyte");
        var bytes = Images(5);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 7).ToArray());
        var ex = Assert.Throws<IdxFormatException>(() => IdxFile.Read(path));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
        Assert.Contains("5x2x3 need 30 data bytes, found 23", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_header_is_refused()
    {
        Assert.Contains("truncated", Assert.Throws<IdxFormatException>(() => IdxFile.Parse(Images(2).AsSpan(0, 9))).Message, StringComparison.Ordinal);
        Assert.Contains("magic number is missing", Assert.Throws<IdxFormatException>(() => IdxFile.Parse([0, 0])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_magic_is_refused()
    {
        var zip = "PK\u0003\u0004 not idx"u8.ToArray();
        var ex = Assert.Throws<IdxFormatException>(() => IdxFile.Parse(zip));
        Assert.Contains("not an IDX magic", ex.Message, StringComparison.Ordinal);
        Assert.Contains("0x504B0304", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_byte_element_types_are_refused()
    {
        var bytes = Images(1);
        bytes[2] = 0x0D; // float
        Assert.Contains("element type 0x0D", Assert.Throws<IdxFormatException>(() => IdxFile.Parse(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trailing_bytes_are_refused()
    {
        var bytes = Images(1).Concat(new byte[] { 1, 2 }).ToArray();
        Assert.Contains("2 bytes beyond", Assert.Throws<IdxFormatException>(() => IdxFile.Parse(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_gzip_is_refused()
    {
        var path = Path.Combine(_dir, "bad.gz");
        File.WriteAllBytes(path, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
        Assert.Contains("gzip", Assert.Throws<IdxFormatException>(() => IdxFile.Read(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labels_and_images_must_agree()
    {
        var images = IdxFile.Parse(IdxFile.Encode([2, 28, 28], new byte[2 * 784]));
        var labels = IdxFile.Parse(IdxFile.Encode([3], [1, 2, 3]));
        Assert.Contains("2 images but 3 labels", Assert.Throws<IdxFormatException>(() => LabeledImages.FromIdx(images, labels, "train")).Message, StringComparison.Ordinal);
        var badLabel = IdxFile.Parse(IdxFile.Encode([2], [1, 12]));
        Assert.Contains("label 12", Assert.Throws<IdxFormatException>(() => LabeledImages.FromIdx(images, badLabel, "train")).Message, StringComparison.Ordinal);
    }
}
