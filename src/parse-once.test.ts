import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";

// Counts the code compiled at run time (zod's object fast paths are built with `new Function`).
const compiled: string[] = [];
const RealFunction = globalThis.Function;
globalThis.Function = new Proxy(RealFunction, {
  construct(target, args, newTarget) {
    compiled.push(String(args.at(-1)).slice(0, 80));
    return Reflect.construct(target, args, newTarget);
  },
});

const { resolveConfig } = await import("./config/resolve.ts");
const { DEFAULT_PIPELINE_OPTIONS } = await import("./pipeline/policy.ts");

test("loading the pipeline's defaults and resolving a config with backends, apps' settings and pipeline options compile no code at run time", async () => {
  const resolved = await resolveConfig({
    installedBackends: {
      kannel: { engine: "kannel", sendsmsUrl: "http://127.0.0.1:13013/cgi-bin/sendsms", sendsmsParams: { username: "u", password: "p" } },
      httptester: { engine: "httptester" },
    },
    apps: ["echo", "webhook"],
    appSettings: { webhook: { url: "https://example.org/inbound" } },
    pipeline: { rateLimits: { kannel: 50 }, maxAttempts: 3 },
  });
  assert.equal(resolved.pipeline.maxAttempts, 3);
  assert.equal(DEFAULT_PIPELINE_OPTIONS.maxAttempts, 10);
  // zod tries `new Function("")` once, to learn whether it may compile.
  assert.deepEqual(
    compiled.filter((body) => body !== ""),
    [],
  );
});

test("the counter sees what zod compiles for a schema parsed without PARSED_ONCE", () => {
  compiled.length = 0;
  z.object({ a: z.string() }).parse({ a: "x" });
  assert.ok(compiled.length > 0, "no compilation seen: this file's check above would prove nothing");
});
