import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { VumiOptions } from "../src/backends/vumi/index.ts";
import { prepareVumiRequest } from "../src/backends/vumi/outbound.ts";
import { resolveConfig } from "../src/config/resolve.ts";
import { VumiBackend } from "../src/index.ts";

const guide = readFileSync(new URL("./vumi.md", import.meta.url), "utf8");
const jsonBlocks = [...guide.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1].trim());

test("the Vumi guide's JSON config is a valid configuration with the documented defaults", async () => {
  const config = await resolveConfig(JSON.parse(jsonBlocks[0]));
  const { engine, options } = config.backends.vumi;
  assert.equal(engine, VumiBackend);
  assert.deepEqual(options, {
    sendsmsUrl: "http://127.0.0.1:8080/send/",
    sendsmsParams: { transport_name: "sms_transport" },
    sendsmsUser: "rapidsms",
    sendsmsPass: "CHANGE-ME",
    inboundUser: "vumi",
    inboundPass: "CHANGE-ME-TOO",
    inboundToken: null,
    timeoutMs: 10_000,
    maxConcurrency: 16,
  });
});

test("the Vumi guide's example body is what the guide's config sends for a reply", async () => {
  const config = await resolveConfig(JSON.parse(jsonBlocks[0]));
  const request = prepareVumiRequest(config.backends.vumi.options as VumiOptions, {
    id: "<our id>",
    text: "hi",
    identities: ["111"],
    context: { inResponseTo: "in-1", externalId: "<Vumi's message_id>" },
  });
  assert.equal(request.body, jsonBlocks[1]);
});

test("RapidSMS-style Vumi settings are accepted as written", async () => {
  const config = await resolveConfig({
    installedBackends: {
      legacy: {
        ENGINE: "rapidsms.backends.vumi.VumiBackend",
        sendsms_url: "http://127.0.0.1:8080/send",
        sendsms_params: { transport_name: "t" },
        sendsms_user: "u",
        sendsms_pass: "p",
      },
    },
  });
  assert.equal(config.backends.legacy.engine, VumiBackend);
  const options = config.backends.legacy.options as VumiOptions;
  assert.deepEqual(
    [options.sendsmsUrl, options.sendsmsParams, options.sendsmsUser, options.sendsmsPass],
    ["http://127.0.0.1:8080/send", { transport_name: "t" }, "u", "p"],
  );
});
