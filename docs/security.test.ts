import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { resolveConfig } from "../src/config/resolve.ts";

const guide = readFileSync(new URL("./security.md", import.meta.url), "utf8");

test("the security guide's proxy config is valid and serves the proxy's local clients only", async () => {
  const json = /```json\n([\s\S]*?)```/.exec(guide)![1].replace("…", "a-token-long-enough-for-the-guide");
  const config = await resolveConfig(JSON.parse(json));
  assert.equal(config.publicUrl, "https://sms.example.org");
  assert.deepEqual(config.trustedProxies, ["127.0.0.1"]);
});

test("the refusal the guide quotes is the one the server gives", async () => {
  const quoted = /```\n(rapidsms: host[^\n]*)\n```/.exec(guide)![1];
  await assert.rejects(resolveConfig({ installedBackends: { httptester: { engine: "httptester" } }, host: "0.0.0.0", tester: true }), (error: Error) => {
    assert.equal(`rapidsms: ${error.message}`, quoted);
    return true;
  });
});
