#!/usr/bin/env node
// Plain JavaScript so that an old Node gets a clear message instead of a syntax error.
import { existsSync } from "node:fs";
import module from "node:module";

// The installed package runs dist/ on the user's Node. A checkout runs its TypeScript sources on a
// Node that strips types (24, as npm install put it in node_modules), else its build if it has one.
const sources = new URL("../src/cli/main.ts", import.meta.url);
const built = new URL("../dist/cli/main.js", import.meta.url);

// Node's compile cache keeps the code V8 compiled (and, for the sources, the types stripped) from one
// start to the next: a start reads some 900 modules, and compiling them is a third of its time.
// Stripping types loads a compiler into every thread that needs it (about 15 MiB each); with the
// cache, a server started before runs without it. The variable passes the cache on to the store thread.
const cache = module.enableCompileCache?.();
if (cache?.directory && !process.env.NODE_DISABLE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE ||= cache.directory;

if (existsSync(sources) && process.features.typescript) {
  // A config that imports rapidsms-ts (in a project that links this checkout) must get these
  // sources too, not dist/: two copies of the classes would fail every instanceof check.
  module.registerHooks?.({
    resolve: (specifier, context, nextResolve) =>
      specifier === "rapidsms-ts" || specifier.startsWith("rapidsms-ts/")
        ? nextResolve(specifier, { ...context, conditions: [...context.conditions, "rapidsms-source"] })
        : nextResolve(specifier, context),
  });
  const { main } = await import(sources.href);
  await main();
} else if (existsSync(built)) {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 19)) {
    process.stderr.write(`rapidsms needs Node 22.19 or newer, or Node 24 (this is ${process.version}): install a current LTS from https://nodejs.org\n`);
    process.exit(1);
  }
  const { main } = await import(built.href);
  await main();
} else {
  process.stderr.write(
    `rapidsms: this checkout has no build, and Node ${process.version} cannot run its TypeScript sources. ` +
      `Run it through npm (npm start, npx rapidsms: they use the Node 24 that npm install put in node_modules), or build it: npm run build\n`,
  );
  process.exit(1);
}
