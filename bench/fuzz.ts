/**
 * `node bench/fuzz.ts [RUNS] [SEED]`: the long fuzz run, RUNS generated requests (default 20,000)
 * at every endpoint of test/support/fuzz.ts, on the SQLite store in its thread. Prints one line
 * per endpoint (requests, time, answers by status) and exits 1 at the first 5xx, with the request.
 * The figures of the last run are in docs/security.md.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../src/config/resolve.ts";
import { createServer } from "../src/server/server.ts";
import { createSystem } from "../src/system.ts";
import { ENDPOINTS, FUZZ_CONFIG, fuzzEndpoint } from "../test/support/fuzz.ts";

const runs = Number(process.argv[2] ?? 20_000);
const seed = process.argv[3] === undefined ? Date.now() % 2 ** 31 : Number(process.argv[3]);
const dir = mkdtempSync(join(tmpdir(), "rapidsms-fuzz-"));
const system = await createSystem(await resolveConfig({ ...FUZZ_CONFIG, database: `sqlite:${join(dir, "fuzz.db")}` }), undefined, "web");
const app = await createServer(system);
process.stdout.write(`fuzz: ${runs} requests per endpoint, seed ${seed}\n\n| endpoint | requests | seconds | answers |\n|---|---:|---:|---|\n`);
let failed = false;
let total = 0;
const started = performance.now();
for (const endpoint of ENDPOINTS) {
  const result = await fuzzEndpoint(app, endpoint, runs, seed);
  total += result.requests;
  const statuses = [...result.statuses]
    .sort(([a], [b]) => a - b)
    .map(([status, n]) => `${status}×${n}`)
    .join(" ");
  process.stdout.write(`| \`${endpoint.name}\` | ${result.requests} | ${(result.ms / 1000).toFixed(1)} | ${statuses} |\n`);
  if (result.failure) {
    process.stdout.write(`\n5xx: ${JSON.stringify(result.failure, null, 1)}\n`);
    failed = true;
    break;
  }
}
const healthy = (await app.inject({ url: "/healthz" })).statusCode === 200;
const accepted = (await app.inject({ method: "POST", url: "/backend/http/", payload: { identity: "1", text: "still here" } })).statusCode === 200;
process.stdout.write(
  `\n${total} requests in ${((performance.now() - started) / 1000).toFixed(0)} s; afterwards /healthz ${healthy ? "200" : "failed"}, a valid message ${accepted ? "accepted" : "refused"}; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB\n`,
);
await app.close();
await system.close();
rmSync(dir, { recursive: true, force: true });
process.exit(failed || !healthy || !accepted ? 1 : 0);
