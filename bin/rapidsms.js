#!/usr/bin/env node
// Plain JavaScript so that an old Node gets a clear message instead of a syntax error.
if (!process.features.typescript) {
  process.stderr.write(
    `rapidsms needs Node 24 or newer (this is ${process.version}). From a checkout, run it through npm ` +
      `(npm start, npx rapidsms), which uses the Node 24 that npm install put in node_modules.\n`,
  );
  process.exit(1);
}
const { main } = await import("../src/cli/main.ts");
await main();
