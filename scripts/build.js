#!/usr/bin/env node
// npm run build (and npm pack, through prepack): src/ to dist/ as users install it. tsc emits the
// JavaScript, declarations and source maps; the files a module reads at run time (the message
// tester's page, script and style) are copied beside their modules; the store thread's module
// becomes one file with what it imports (see below).
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
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

// zod is 95 modules and uuid 20; a start resolves, reads and links each of them on the main thread,
// which costs more than their code: zod takes about 25 ms, one file of it 10, uuid 11 ms against 6.
// So dist/ imports them from dist/vendor/<name>.js, their own code bundled by esbuild (they are ES
// modules, so the bundle keeps them at top level, where the compile cache sees them). The
// declarations still name the packages, which package.json pins to the versions bundled here, so
// that the types describe the code that runs; schemas from a project's own zod mix with these
// (zod 4's instanceof checks traits, not classes).
const VENDORED = {
  zod: 'export * from "zod"; export { z, default } from "zod";',
  uuid: 'export * from "uuid";',
};
const vendored = new Map(Object.keys(VENDORED).map((name) => [name, join(dist, `vendor/${name}.js`)]));
for (const [name, contents] of Object.entries(VENDORED)) {
  const licence = readFileSync(join(root, "node_modules", name, readdirSync(join(root, "node_modules", name)).find((file) => /^licen[cs]e/i.test(file))), "utf8");
  buildSync({
    stdin: { contents, resolveDir: root, sourcefile: `${name}-entry.js` },
    outfile: vendored.get(name),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    banner: { js: `/*! ${name}, bundled from its npm package for RapidSMS.ts\n${licence.replaceAll("*/", "* /").trim()}\n*/` },
    logLevel: "warning",
  });
}
const bare = new RegExp(`(\\bfrom\\s*)"(${Object.keys(VENDORED).join("|")})"`, "g");
// Any other way of naming them (a subpath, import(), another quote) would load a second copy.
const other = new RegExp(`(\\bfrom\\s*|\\bimport\\s*\\(?\\s*)["'\`](${Object.keys(VENDORED).join("|")})(/[^"'\`]*)?["'\`]`);
let vendoredImports = 0;
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  const file = join(entry.parentPath, entry.name);
  if (!entry.isFile() || !entry.name.endsWith(".js") || entry.parentPath === join(dist, "vendor")) continue;
  const code = readFileSync(file, "utf8");
  const rewritten = code.replace(bare, (_, from, name) => {
    vendoredImports++;
    const path = relative(entry.parentPath, vendored.get(name)).split(sep).join("/");
    return `${from}"${path.startsWith(".") ? path : `./${path}`}"`;
  });
  const left = other.exec(rewritten);
  if (left) throw new Error(`build: ${relative(dist, file)} imports ${left[2]}${left[3] ?? ""} (${left[0]}…), which this build does not rewrite to dist/vendor/: import it as from "${left[2]}"`);
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
process.stdout.write(`build: dist/ written (${copied} assets copied; zod and uuid in one file each for ${vendoredImports} imports; the store thread's ${inputs} modules in one file)\n`);
