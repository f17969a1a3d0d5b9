import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { unlessInCi } from "../test/support/components.ts";
import { resolveConfig } from "../src/config/resolve.ts";
import { KannelBackend } from "../src/index.ts";

const guide = readFileSync(new URL("./kannel.md", import.meta.url), "utf8");

test("the Kannel guide's JSON config is a valid configuration with the documented defaults", async () => {
  const json = /```json\n([\s\S]*?)```/.exec(guide)![1];
  const config = await resolveConfig(JSON.parse(json));
  const { engine, options } = config.backends.kannel;
  assert.equal(engine, KannelBackend);
  assert.deepEqual(
    { ...options, sendsmsParams: undefined },
    {
      sendsmsUrl: "http://127.0.0.1:13013/cgi-bin/sendsms",
      sendsmsParams: undefined,
      deliveryReportUrl: "http://127.0.0.1:8000",
      charset: "UTF-8",
      coding: "auto",
      encodeErrors: "ignore",
      dlrMask: 31,
      timeoutMs: 10_000,
      maxConcurrency: 16,
    },
  );
});

const rigEnv = new URL("../../shared/kannel/env.sh", import.meta.url);

test("the Kannel guide's get-url is the one the end-to-end test's rig uses", {
  skip: unlessInCi(existsSync(rigEnv) ? false : "the Kannel rig (../shared/kannel) is not beside this checkout"),
}, () => {
  const rig = /GET_URL_QUERY:-([^}]*)\}/.exec(readFileSync(rigEnv, "utf8"));
  const getUrl = /get-url = "http:\/\/127\.0\.0\.1:8000\/backend\/kannel\/\?([^"]+)"/.exec(guide)![1];
  assert.equal(getUrl, rig?.[1]);
});

test("RapidSMS-style Kannel settings are accepted as written", async () => {
  const config = await resolveConfig({
    installedBackends: {
      legacy: { ENGINE: "rapidsms.backends.kannel.KannelBackend", sendsms_url: "http://127.0.0.1:13013/cgi-bin/sendsms", sendsms_params: { from: "1" } },
    },
  });
  assert.equal(config.backends.legacy.engine, KannelBackend);
  assert.deepEqual((config.backends.legacy.options as { sendsmsParams: object }).sendsmsParams, { from: "1" });
});
