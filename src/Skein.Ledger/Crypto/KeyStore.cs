using System.Text;

namespace Skein.Ledger.Crypto;

/// <summary>
/// A folder of named v3 key files, <c>&lt;folder&gt;/&lt;name&gt;.json</c>: creates keys (written atomically, readable by
/// the owner only), lists their addresses without passwords, and unlocks one by name or address.
/// </summary>
public sealed class KeyStore
{
    public const int MaxNameLength = 64;

    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public KeyStore(string folder, KdfStrength strength = KdfStrength.Standard)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Folder = Path.GetFullPath(folder);
        Strength = strength;
    }

    public string Folder { get; }

    /// <summary>The scrypt cost of keys this store creates; unlocking follows whatever each file says.</summary>
    public KdfStrength Strength { get; }

    /// <summary>$SKEIN_DATA_DIR/keys, else skein/keys in the platform's local application data folder.</summary>
    public static string DefaultFolder()
    {
        var fromEnv = Environment.GetEnvironmentVariable("SKEIN_DATA_DIR");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return Path.Combine(fromEnv, "keys");
        }
        var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
        if (string.IsNullOrEmpty(local))
        {
            // Unlike caches, keys must not fall back to the shared temp folder.
            throw new InvalidOperationException("no local application data folder on this system: set SKEIN_DATA_DIR to choose where keys live");
        }
        return Path.Combine(local, "skein", "keys");
    }

    /// <summary>Letters, digits, '-' and '_', 1 to 64 characters: safe as a file name on every platform.</summary>
    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>Generates a key and writes it encrypted under <paramref name="password"/> as <c>&lt;name&gt;.json</c>.</summary>
    public (LedgerKey Key, string Path) Create(string name, string password)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(password);
        if (password.Length == 0)
        {
            throw new KeyStoreException(KeyStoreError.EmptyPassword, $"password: must not be empty (key '{name}')");
        }
        var path = PathOf(name);
        if (File.Exists(path))
        {
            throw AlreadyExists(name, path);
        }
        var key = LedgerKey.Generate();
        try
        {
            WriteNew(name, path, KeyFile.Encrypt(key, password, Strength));
            return (key, path);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The store's keys, by name; files that are not valid v3 key files with valid names are left out.</summary>
    public IReadOnlyList<(string Name, Address Address, string Path)> List()
    {
        if (!Directory.Exists(Folder))
        {
            return [];
        }
        var keys = new List<(string Name, Address Address, string Path)>();
        foreach (var path in Directory.EnumerateFiles(Folder, "*.json"))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (!IsValidName(name))
            {
                continue;
            }
            try
            {
                keys.Add((name, KeyFile.ReadAddress(File.ReadAllText(path), path), path));
            }
            catch (Exception e) when (e is KeyStoreException or IOException or UnauthorizedAccessException)
            {
                // Listing shows what can be used; Unlock reports why a particular file cannot.
            }
        }
        keys.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return keys;
    }

    /// <summary>Decrypts the key with this name, or the first (by name) whose file declares this 0x address.</summary>
    public LedgerKey Unlock(string nameOrAddress, string password)
    {
        ArgumentNullException.ThrowIfNull(nameOrAddress);
        ArgumentNullException.ThrowIfNull(password);
        string name;
        string path;
        if (Address.TryParse(nameOrAddress, out var address, out _))
        {
            var entry = List().FirstOrDefault(k => k.Address == address);
            if (entry.Path is null)
            {
                throw new KeyStoreException(KeyStoreError.NotFound, $"no key with address {address} in {Folder}");
            }
            (name, path) = (entry.Name, entry.Path);
        }
        else
        {
            CheckName(nameOrAddress);
            name = nameOrAddress;
            path = PathOf(name);
            if (!File.Exists(path))
            {
                throw new KeyStoreException(KeyStoreError.NotFound, $"no key named '{name}' in {Folder}");
            }
        }
        return KeyFile.Decrypt(File.ReadAllText(path), password, name, $"key file '{path}'");
    }

    private string PathOf(string name) => Path.Combine(Folder, name + ".json");

    private static void CheckName(string name)
    {
        if (!IsValidName(name))
        {
            throw new KeyStoreException(KeyStoreError.InvalidName,
                $"key name: '{name}' is not valid (use letters, digits, '-' and '_', 1 to {MaxNameLength} characters)");
        }
        if (Address.TryParse(name, out _, out _))
        {
            throw new KeyStoreException(KeyStoreError.InvalidName, $"key name: '{name}' looks like an address, which Unlock would read as one");
        }
    }

    private static KeyStoreException AlreadyExists(string name, string path) =>
        new(KeyStoreError.AlreadyExists, $"a key named '{name}' already exists ({path}); choose another name");

    /// <summary>
    /// Writes to a temporary file beside the target, flushed to disk, then moves it into place without overwriting:
    /// a crash leaves no half-written key file, and of two concurrent creators of one name exactly one wins.
    /// </summary>
    private void WriteNew(string name, string path, string json)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(Folder);
        }
        else
        {
            Directory.CreateDirectory(Folder, OwnerOnlyFolder);
        }
        var temp = Path.Combine(Folder, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                // Set at creation, so the file is never readable by others, not even for an instant.
                options.UnixCreateMode = OwnerOnlyFile;
            }
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(Encoding.UTF8.GetBytes(json));
                stream.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                throw AlreadyExists(name, path);
            }
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
