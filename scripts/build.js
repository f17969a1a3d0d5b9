#!/usr/bin/env node
// npm run build (and npm pack, through prepack): src/ to dist/ as users install it. tsc emits the
// JavaScript, declarations and source maps; the files a module reads at run time (the message
// tester's page, script and style) are copied beside their modules; the store thread's module
// becomes one file with what it imports (see below).
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const dist = join(root, "dist");
const ASSETS = [".html", ".css", ".js"];

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
let copied = 0;
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !ASSETS.some((ext) => entry.name.endsWith(ext))) continue;
  const from = join(entry.parentPath, entry.name);
  cpSync(from, join(dist, relative(src, from)));
  copied++;
}

// zod is 95 modules; a start resolves, reads and evaluates each of them on the main thread before
// the config can be checked, about 25 ms, where one file of it loads in 10. So dist/ imports zod
// from dist/vendor/zod.js, zod's own code bundled by esbuild (it is ES modules, so the bundle keeps
// them at top level, where the compile cache sees them). The declarations still name "zod", which
// stays a dependency; schemas from a project's own zod mix with these (zod 4's instanceof checks
// traits, not classes).
const vendoredZod = join(dist, "vendor/zod.js");
buildSync({
  stdin: { contents: 'export * from "zod"; export { z, default } from "zod";', resolveDir: root, sourcefile: "zod-entry.js" },
  outfile: vendoredZod,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  legalComments: "eof",
  logLevel: "warning",
});
let zodImports = 0;
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".js") || join(entry.parentPath, entry.name) === vendoredZod) continue;
  const file = join(entry.parentPath, entry.name);
  const code = readFileSync(file, "utf8");
  const specifier = `./${relative(entry.parentPath, vendoredZod)}`.replace(/^\.\/\.\.\//, "../");
  const rewritten = code.replace(/(\bfrom\s*)"zod"/g, (_, from) => {
    zodImports++;
    return `${from}"${specifier}"`;
  });
  if (rewritten !== code) writeFileSync(file, rewritten);
}

// The SQLite store thread imports some 300 modules (most of them Kysely's); a thread started on
// them spends most of a server's start resolving and reading files, on the critical path to its
// first 200. As one file it loads in a fraction of that. Nothing crosses between the thread and
// the main thread but structured clones, so its copies of these modules are never mixed with theirs.
const worker = join(dist, "store/sqlite-thread-worker.js");
const bundled = buildSync({
  entryPoints: [worker],
  outfile: worker,
  allowOverwrite: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
});
const inputs = Object.keys(bundled.metafile.inputs).length;
process.stdout.write(`build: dist/ written (${copied} assets copied; zod in one file for ${zodImports} imports; the store thread's ${inputs} modules in one file)\n`);
