using System.Text.Json;
using System.Text.Json.Nodes;
using Nethereum.KeyStore;
using Nethereum.KeyStore.Model;
using Nethereum.Signer;
using Skein.Ledger.Crypto;

namespace Skein.Ledger.Tests.Crypto;

public sealed class KeyStoreTests : IDisposable
{
    private const string Password = "correct horse battery staple";

    // The Web3 Secret Storage definition's test vectors: password "testpassword", this private key, no address field.
    private const string SpecPrivateKey = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";
    private const string SpecScryptVector = """
        {"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"83dbcc02d8ccb40e466191a123791e0e"},
        "ciphertext":"d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c","kdf":"scrypt",
        "kdfparams":{"dklen":32,"n":262144,"p":8,"r":1,"salt":"ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"},
        "mac":"2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}
        """;
    private const string SpecPbkdf2Vector = """
        {"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"6087dab2f9fdbbfaddc31a909735c1e6"},
        "ciphertext":"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46","kdf":"pbkdf2",
        "kdfparams":{"c":262144,"dklen":32,"prf":"hmac-sha256","salt":"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},
        "mac":"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}
        """;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "skein-keystore-tests-" + Guid.NewGuid().ToString("N"));

    private KeyStore Store => new(_folder, KdfStrength.Light);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void Create_writes_an_owner_only_v3_scrypt_file_and_leaves_no_temporary_file()
    {
        var (key, path) = Store.Create("alice", Password);
        using (key)
        {
            Assert.Equal(Path.Combine(Path.GetFullPath(_folder), "alice.json"), path);
            Assert.Equal(["alice.json"], Directory.GetFiles(_folder).Select(Path.GetFileName));
            var json = JsonNode.Parse(File.ReadAllText(path))!;
            Assert.Equal(3, (int)json["version"]!);
            Assert.Equal(key.Address.ToLowerHex()[2..], (string)json["address"]!);
            Assert.Equal("scrypt", (string)json["crypto"]!["kdf"]!);
            Assert.Equal("aes-128-ctr", (string)json["crypto"]!["cipher"]!);
            Assert.Equal(4096, (int)json["crypto"]!["kdfparams"]!["n"]!);
            Assert.Equal(8, (int)json["crypto"]!["kdfparams"]!["r"]!);
            Assert.Equal(1, (int)json["crypto"]!["kdfparams"]!["p"]!);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_folder));
            }
        }
    }

    [Fact]
    public void Standard_strength_writes_geths_scrypt_parameters()
    {
        using var key = LedgerKey.Generate();
        var json = JsonNode.Parse(KeyFile.Encrypt(key, Password, KdfStrength.Standard))!;
        Assert.Equal(262_144, (int)json["crypto"]!["kdfparams"]!["n"]!);
        Assert.Equal(8, (int)json["crypto"]!["kdfparams"]!["r"]!);
        Assert.Equal(1, (int)json["crypto"]!["kdfparams"]!["p"]!);
        Assert.Equal(32, (int)json["crypto"]!["kdfparams"]!["dklen"]!);
    }

    [Fact]
    public void List_shows_names_and_addresses_by_name_without_passwords_and_skips_other_files()
    {
        var store = Store;
        Assert.Empty(store.List());
        var (bob, bobPath) = store.Create("bob", Password);
        var (alice, alicePath) = store.Create("alice", "another password");
        File.WriteAllText(Path.Combine(_folder, "notes.txt"), "not a key");
        File.WriteAllText(Path.Combine(_folder, "broken.json"), "{ nope");
        File.WriteAllText(Path.Combine(_folder, "bad name.json"), File.ReadAllText(bobPath));

        var list = store.List();

        Assert.Equal([("alice", alice.Address, alicePath), ("bob", bob.Address, bobPath)], list);
    }

    [Fact]
    public void Unlock_by_name_or_address_gives_the_created_key()
    {
        var store = Store;
        var (created, _) = store.Create("alice", Password);
        store.Create("bob", Password).Key.Dispose();

        using var byName = store.Unlock("alice", Password);
        using var byAddress = store.Unlock(created.Address.ToString(), Password);
        using var byLowercaseAddress = new KeyStore(_folder).Unlock(created.Address.ToLowerHex(), Password);

        Assert.Equal(created.Address, byName.Address);
        Assert.Equal(created.Address, byAddress.Address);
        Assert.Equal(created.Address, byLowercaseAddress.Address);
        var digest = SampleTransactions.H(1);
        Assert.Equal(created.Sign(digest), byName.Sign(digest));
    }

    [Fact]
    public void Wrong_password_is_reported_with_the_key_name_and_without_the_password()
    {
        var store = Store;
        store.Create("alice", Password).Key.Dispose();

        var e = Assert.Throws<KeyStoreException>(() => store.Unlock("alice", "Tr0ub4dor&3"));

        Assert.Equal(KeyStoreError.WrongPassword, e.Error);
        Assert.Equal("wrong password for key 'alice'", e.Message);
        Assert.DoesNotContain("Tr0ub4dor&3", e.ToString());
        Assert.DoesNotContain(Password, e.ToString());
    }

    [Fact]
    public void Duplicate_names_are_refused_and_the_first_file_is_kept()
    {
        var store = Store;
        var (first, path) = store.Create("alice", Password);
        var before = File.ReadAllText(path);

        var e = Assert.Throws<KeyStoreException>(() => store.Create("alice", Password));

        Assert.Equal(KeyStoreError.AlreadyExists, e.Error);
        Assert.Contains("'alice' already exists", e.Message);
        Assert.Equal(before, File.ReadAllText(path));
        using var unlocked = store.Unlock("alice", Password);
        Assert.Equal(first.Address, unlocked.Address);
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("../evil")]
    [InlineData("dir/alice")]
    [InlineData("alice.json")]
    [InlineData("zoë")]
    [InlineData("0x2c7536E3605D9C16a7a3D7b1898e529396a65c23")]
    public void Invalid_names_are_refused_naming_the_field(string name)
    {
        var e = Assert.Throws<KeyStoreException>(() => Store.Create(name, Password));
        Assert.Equal(KeyStoreError.InvalidName, e.Error);
        Assert.StartsWith("key name:", e.Message);
        Assert.False(Directory.Exists(_folder) && Directory.EnumerateFileSystemEntries(_folder).Any());
    }

    [Fact]
    public void Names_may_use_letters_digits_dash_and_underscore_up_to_64_characters()
    {
        var longest = new string('a', KeyStore.MaxNameLength);
        Store.Create("Node-1_validator", Password).Key.Dispose();
        Store.Create(longest, Password).Key.Dispose();
        Assert.Throws<KeyStoreException>(() => Store.Create(longest + "a", Password));
        Assert.Equal(["Node-1_validator", longest], Store.List().Select(k => k.Name));
    }

    [Fact]
    public void An_empty_password_is_refused_on_create()
    {
        var e = Assert.Throws<KeyStoreException>(() => Store.Create("alice", ""));
        Assert.Equal(KeyStoreError.EmptyPassword, e.Error);
    }

    [Fact]
    public void Unknown_names_and_addresses_are_reported_as_not_found()
    {
        var store = Store;
        store.Create("alice", Password).Key.Dispose();

        Assert.Equal(KeyStoreError.NotFound, Assert.Throws<KeyStoreException>(() => store.Unlock("bob", Password)).Error);
        var e = Assert.Throws<KeyStoreException>(() => store.Unlock(SampleTransactions.Other.ToString(), Password));
        Assert.Equal(KeyStoreError.NotFound, e.Error);
        Assert.Contains(SampleTransactions.Other.ToString(), e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{ this is not json")]
    [InlineData("[]")]
    [InlineData("""{"version":3}""")]
    public void Corrupt_files_are_reported_as_corrupt(string content)
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Path.Combine(_folder, "alice.json"), content);

        var e = Assert.Throws<KeyStoreException>(() => Store.Unlock("alice", Password));

        Assert.Equal(KeyStoreError.Corrupt, e.Error);
        Assert.Contains("alice.json", e.Message);
        Assert.DoesNotContain(Password, e.ToString());
    }

    [Theory]
    [InlineData("version", "4")]
    [InlineData("crypto.cipher", "\"aes-256-gcm\"")]
    [InlineData("crypto.kdf", "\"argon2\"")]
    [InlineData("crypto.ciphertext", "\"zz\"")]
    [InlineData("crypto.mac", "\"00\"")]
    [InlineData("crypto.cipherparams.iv", "\"0011\"")]
    [InlineData("crypto.kdfparams.dklen", "16")]
    [InlineData("crypto.kdfparams.n", "1000")]
    [InlineData("crypto.kdfparams.n", "1073741824")]
    [InlineData("crypto.kdfparams.p", "0")]
    [InlineData("address", "\"0x1234\"")]
    public void Files_with_invalid_or_hostile_fields_are_refused_before_any_key_derivation(string field, string value)
    {
        var (key, path) = Store.Create("alice", Password);
        key.Dispose();
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        var parts = field.Split('.');
        var parent = parts[..^1].Aggregate(json, (node, part) => node[part]!);
        parent[parts[^1]] = JsonNode.Parse(value);
        File.WriteAllText(path, json.ToJsonString());

        var e = Assert.Throws<KeyStoreException>(() => Store.Unlock("alice", Password));

        Assert.Equal(KeyStoreError.Corrupt, e.Error);
        Assert.Empty(Store.List());
    }

    [Fact]
    public void A_file_claiming_another_address_is_reported_as_corrupt()
    {
        var (key, path) = Store.Create("alice", Password);
        key.Dispose();
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["address"] = SampleTransactions.Other.ToLowerHex()[2..];
        File.WriteAllText(path, json.ToJsonString());

        var e = Assert.Throws<KeyStoreException>(() => Store.Unlock("alice", Password));

        Assert.Equal(KeyStoreError.Corrupt, e.Error);
        Assert.Contains("declares address", e.Message);
    }

    [Fact]
    public void A_tampered_ciphertext_fails_the_MAC()
    {
        var (key, path) = Store.Create("alice", Password);
        key.Dispose();
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        var cipherText = (string)json["crypto"]!["ciphertext"]!;
        json["crypto"]!["ciphertext"] = (cipherText[0] == '0' ? "1" : "0") + cipherText[1..];
        File.WriteAllText(path, json.ToJsonString());

        // The MAC cannot tell a changed ciphertext from a wrong password: either way the key is not released.
        var e = Assert.Throws<KeyStoreException>(() => Store.Unlock("alice", Password));
        Assert.Equal(KeyStoreError.WrongPassword, e.Error);
    }

    [Fact]
    public void A_file_written_by_Nethereum_unlocks_here()
    {
        var reference = EthECKey.GenerateKey();
        var json = new KeyStoreScryptService().EncryptAndGenerateKeyStoreAsJson(
            Password, reference.GetPrivateKeyAsBytes(), reference.GetPublicAddress(), new ScryptParams { Dklen = 32, N = 1024, R = 8, P = 1 });
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Path.Combine(_folder, "imported.json"), json);

        var listed = Assert.Single(Store.List());
        using var key = Store.Unlock("imported", Password);

        Assert.Equal(Address.Parse(reference.GetPublicAddress()), listed.Address);
        Assert.Equal(listed.Address, key.Address);
    }

    [Fact]
    public void A_file_written_here_unlocks_with_Nethereum()
    {
        var (key, path) = Store.Create("alice", Password);
        using (key)
        {
            var json = File.ReadAllText(path);
            var service = new KeyStoreService();
            var secret = service.DecryptKeyStoreFromJson(Password, json);

            Assert.Equal(key.Address, Address.Parse(new EthECKey(secret, true).GetPublicAddress()));
            Assert.Equal(key.Address, Address.Parse("0x" + service.GetAddressFromKeyStore(json)));
            Assert.Throws<Nethereum.KeyStore.Crypto.DecryptionException>(() => service.DecryptKeyStoreFromJson("wrong", json));
        }
    }

    [Theory]
    [InlineData(SpecScryptVector)]
    [InlineData(SpecPbkdf2Vector)]
    public void The_Web3_Secret_Storage_test_vectors_decrypt(string json)
    {
        using var key = KeyFile.Decrypt(json, "testpassword", "spec");

        Assert.Equal(Address.Parse(new EthECKey(SpecPrivateKey).GetPublicAddress()), key.Address);
        // The vectors declare no address, so they can be unlocked by name but are not listed.
        Assert.Throws<KeyStoreException>(() => KeyFile.ReadAddress(json));
    }

    [Fact]
    public void No_password_or_private_key_appears_in_any_error()
    {
        var secretHex = LedgerKeyTests.Web3DocsKeyHex;
        using var known = LedgerKey.FromPrivateKey(Convert.FromHexString(secretHex));
        var json = KeyFile.Encrypt(known, Password, KdfStrength.Light);
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Path.Combine(_folder, "alice.json"), json);
        var errors = new List<Exception>
        {
            Assert.Throws<KeyStoreException>(() => Store.Unlock("alice", Password + "!")),
            Assert.Throws<KeyStoreException>(() => KeyFile.Decrypt(json, Password[..^1], "alice")),
            Assert.Throws<KeyStoreException>(() => Store.Create("alice", Password)),
            Assert.Throws<KeyStoreException>(() => Store.Create("bad name", Password)),
            Assert.Throws<KeyStoreException>(() => KeyFile.Decrypt(json.Replace("\"version\":3", "\"version\":2", StringComparison.Ordinal), Password, "alice")),
            Assert.Throws<ArgumentException>(() => LedgerKey.FromPrivateKey(new byte[32])),
        };

        foreach (var e in errors)
        {
            var text = e.ToString();
            Assert.DoesNotContain(Password, text);
            Assert.DoesNotContain(secretHex, text, StringComparison.OrdinalIgnoreCase);
        }
        Assert.DoesNotContain(secretHex, known.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(secretHex, json, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Default_folder_is_under_SKEIN_DATA_DIR_when_set()
    {
        var before = Environment.GetEnvironmentVariable("SKEIN_DATA_DIR");
        try
        {
            Environment.SetEnvironmentVariable("SKEIN_DATA_DIR", _folder);
            Assert.Equal(Path.Combine(_folder, "keys"), KeyStore.DefaultFolder());
            Environment.SetEnvironmentVariable("SKEIN_DATA_DIR", null);
            Assert.EndsWith(Path.Combine("skein", "keys"), KeyStore.DefaultFolder());
        }
        finally
        {
            Environment.SetEnvironmentVariable("SKEIN_DATA_DIR", before);
        }
    }
}
