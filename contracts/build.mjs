// Compiles contracts/src/*.sol with solcjs (the npm build of solc, pinned in package.json) into out/<Name>.json:
// { contract, compiler, settings, sources (sha256 per file), abi, bytecode }. `--check` compiles and compares with
// what is checked in, and fails if anything differs, so the bytecode the .NET side deploys is the bytecode of src/.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const solc = require("solc");
const check = process.argv.includes("--check");

const settings = {
  optimizer: { enabled: true, runs: 1 },
  evmVersion: "cancun",
  viaIR: true,
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};
const sources = {};
for (const file of readdirSync(join(root, "src")).filter((f) => f.endsWith(".sol")).sort()) {
  sources[file] = { content: readFileSync(join(root, "src", file), "utf8") };
}
function findImports(path) {
  const candidate = resolve(root, "node_modules", path);
  return existsSync(candidate) ? { contents: readFileSync(candidate, "utf8") } : { error: `not found: ${path}` };
}
const output = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources, settings }), { import: findImports }));
const errors = (output.errors ?? []).filter((e) => e.severity === "error");
for (const e of output.errors ?? []) {
  console.error(e.formattedMessage);
}
if (errors.length > 0) {
  process.exit(1);
}
// EIP-170: no chain accepts more runtime code than this in one contract.
const codeSizeLimit = 24576;
const sha = (text) => createHash("sha256").update(text).digest("hex");
mkdirSync(join(root, "out"), { recursive: true });
let stale = 0;
for (const file of Object.keys(sources)) {
  for (const [name, contract] of Object.entries(output.contracts[file] ?? {})) {
    if (contract.evm.bytecode.object.length === 0 || contract.abi.length === 0) {
      continue; // interfaces, abstract contracts and internal libraries
    }
    const runtime = contract.evm.deployedBytecode.object.length / 2;
    if (runtime > codeSizeLimit) {
      console.error(`${name}: ${runtime} bytes of runtime code, over the ${codeSizeLimit}-byte limit of EIP-170 (split it)`);
      process.exit(3);
    }
    const artifact = {
      contract: name,
      compiler: `solc ${solc.version()}`,
      settings: { optimizer: settings.optimizer, evmVersion: settings.evmVersion, viaIR: settings.viaIR },
      sources: Object.fromEntries(Object.entries(sources).map(([f, s]) => [f, sha(s.content)])),
      abi: contract.abi,
      bytecode: "0x" + contract.evm.bytecode.object,
    };
    const text = JSON.stringify(artifact, null, 2) + "\n";
    const path = join(root, "out", `${name}.json`);
    if (check) {
      const current = existsSync(path) ? readFileSync(path, "utf8") : "";
      if (current !== text) {
        console.error(`out/${name}.json differs from a fresh build of src/ (run: npm run build in contracts/)`);
        stale++;
      } else {
        console.error(`out/${name}.json matches a fresh build`);
      }
    } else {
      writeFileSync(path, text);
      console.error(`out/${name}.json: ${contract.evm.bytecode.object.length / 2} bytes of init code, ${runtime} of runtime code (limit ${codeSizeLimit})`);
    }
  }
}
process.exit(stale > 0 ? 2 : 0);
