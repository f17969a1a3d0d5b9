#!/usr/bin/env node
// Plain JavaScript so that an old Node gets a clear message instead of a syntax error.
import module from "node:module";

if (!process.features.typescript) {
  process.stderr.write(
    `rapidsms needs Node 24 or newer (this is ${process.version}). From a checkout, run it through npm ` +
      `(npm start, npx rapidsms), which uses the Node 24 that npm install put in node_modules.\n`,
  );
  process.exit(1);
}
// Node strips the types of each TypeScript file with a compiler it loads into every thread that
// needs it (about 15 MiB each). With the compile cache, a file stripped once is read back from the
// cache next time, so a server started before runs without that compiler in any of its threads;
// the variable passes the cache on to the store thread.
const cache = module.enableCompileCache?.();
if (cache?.directory && !process.env.NODE_DISABLE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE ||= cache.directory;
const { main } = await import("../src/cli/main.ts");
await main();
