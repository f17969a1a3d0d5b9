#!/usr/bin/env node
// npm run build (and npm pack, through prepack): src/ to dist/ as users install it. tsc emits the
// JavaScript, declarations and source maps; the files a module reads at run time (the message
// tester's page, script and style) are copied beside their modules; the store thread's module
// becomes one file with what it imports (see below).
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, rmSync } from "node:fs";
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
process.stdout.write(`build: dist/ written (${copied} assets copied; the store thread's ${inputs} modules in one file)\n`);
