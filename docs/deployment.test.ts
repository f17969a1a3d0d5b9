import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { resolveConfig } from "../src/config/resolve.ts";

const guide = readFileSync(new URL("./deployment.md", import.meta.url), "utf8");

test("the deployment guide's config is valid: PostgreSQL, Redis, an API token and a rate limit", async () => {
  const json = /```json\n([\s\S]*?)```/.exec(guide)![1];
  const config = await resolveConfig(JSON.parse(json));
  assert.match(config.database, /^postgres:\/\//);
  assert.match(config.queue!, /^redis:\/\//);
  assert.deepEqual(config.pipeline.rateLimits, { kannel: { perSecond: 50, count: "messages" } });
  assert.equal(config.host, "0.0.0.0");
  assert.ok(config.apiToken);
});
