// Compiled by MSBuild's RoslynCodeTaskFactory (see LibTorchSharpGlibcxx.targets); not part of any project.
// ELF64 little-endian only: the one layout libtorch ships for Linux x64 and arm64.
// The task factory compiles against netstandard2.0, hence plain arrays and no spans.
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class SkeinWeakenGlibcxxRequirement : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    [Required]
    public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        var systemLibs = FindSystemLibStdCxx();
        var needle = Encoding.ASCII.GetBytes(VersionName + "\0");
        if (systemLibs.Length > 0 && systemLibs.All(p => Contains(File.ReadAllBytes(p), needle)))
        {
            Log.LogMessage(MessageImportance.Low, $"System libstdc++ provides {VersionName}; libLibTorchSharp.so left as shipped.");
            return true;
        }

        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var bytes = File.ReadAllBytes(path);
                var changed = MarkWeak(bytes, VersionName);
                if (changed < 0)
                {
                    Log.LogMessage(MessageImportance.Low, $"{path}: no requirement on {VersionName}.");
                    continue;
                }
                if (changed == 0)
                {
                    continue; // already weak: a previous build patched this copy
                }

                var stamp = File.GetLastWriteTimeUtc(path);
                var temp = path + ".skein-tmp";
                File.WriteAllBytes(temp, bytes);
                // Keep the timestamp of the copy so incremental builds still see it as up to date,
                // and move rather than write in place so a hard-linked package file is never modified.
                File.SetLastWriteTimeUtc(temp, stamp);
                File.Delete(path);
                File.Move(temp, path);
                Log.LogMessage(MessageImportance.High, $"Skein: marked {VersionName} weak in {path} (system libstdc++ lacks it).");
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is InvalidDataException)
            {
                Log.LogError($"Skein: could not patch {path}: {ex.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    /// <summary>Returns -1 if the version is not required, 0 if already weak, else the number of entries changed.</summary>
    private static int MarkWeak(byte[] elf, string versionName)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }
        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("not a little-endian ELF64 file");
        }

        var shoff = checked((int)U64(elf, 0x28));
        var shentsize = U16(elf, 0x3A);
        var shnum = U16(elf, 0x3C);

        var found = -1;
        for (var i = 0; i < shnum; i++)
        {
            var sh = shoff + i * shentsize;
            if (U32(elf, sh + 4) != ShtGnuVerneed)
            {
                continue;
            }

            var offset = checked((int)U64(elf, sh + 24));
            var link = (int)U32(elf, sh + 40);
            var count = U32(elf, sh + 44);
            var strOffset = checked((int)U64(elf, shoff + link * shentsize + 24));

            var vn = offset;
            for (var n = 0; n < count; n++)
            {
                var cnt = U16(elf, vn + 2);
                var aux = vn + (int)U32(elf, vn + 8);
                for (var a = 0; a < cnt; a++)
                {
                    var nameOffset = (int)U32(elf, aux + 8);
                    if (ReadCString(elf, strOffset + nameOffset) == versionName)
                    {
                        var flags = U16(elf, aux + 4);
                        if (found < 0)
                        {
                            found = 0;
                        }
                        if ((flags & VerFlgWeak) == 0)
                        {
                            var weak = (ushort)(flags | VerFlgWeak);
                            elf[aux + 4] = (byte)(weak & 0xff);
                            elf[aux + 5] = (byte)(weak >> 8);
                            found++;
                        }
                    }
                    aux += (int)U32(elf, aux + 12);
                }
                var next = U32(elf, vn + 12);
                if (next == 0)
                {
                    break;
                }
                vn += (int)next;
            }
        }
        return found;
    }

    private static ushort U16(byte[] b, int o) => (ushort)(b[o] | (b[o + 1] << 8));

    private static uint U32(byte[] b, int o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));

    private static ulong U64(byte[] b, int o) => U32(b, o) | ((ulong)U32(b, o + 4) << 32);

    private static string ReadCString(byte[] b, int offset)
    {
        var end = offset;
        while (end < b.Length && b[end] != 0)
        {
            end++;
        }
        return Encoding.ASCII.GetString(b, offset, end - offset);
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            var j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j])
            {
                j++;
            }
            if (j == needle.Length)
            {
                return true;
            }
        }
        return false;
    }
    private static string[] FindSystemLibStdCxx()
    {
        try
        {
            var psi = new ProcessStartInfo("ldconfig", "-p") { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p != null)
            {
                var output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                var fromCache = output.Split('\n')
                    .Where(l => l.TrimStart().StartsWith("libstdc++.so.6 ", StringComparison.Ordinal) && l.Contains("=>"))
                    .Select(l => l.Substring(l.IndexOf("=>", StringComparison.Ordinal) + 2).Trim())
                    .Where(File.Exists)
                    .ToArray();
                if (fromCache.Length > 0)
                {
                    return fromCache;
                }
            }
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception || ex is InvalidOperationException)
        {
            // no ldconfig on PATH: fall back to the usual library folders
        }

        var dirs = new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib" };
        return dirs.Select(d => Path.Combine(d, "libstdc++.so.6")).Where(File.Exists).ToArray();
    }
}
