import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type FetchHandler, fetchHandler } from "./fetch.ts";
import { createRapidSms, type RapidSms } from "./rapidsms.ts";

let sms: RapidSms;
let handle: FetchHandler;
before(async () => {
  sms = await createRapidSms({ installedBackends: { http: { engine: "http" } }, database: "sqlite::memory:" });
  handle = await fetchHandler(sms, { prefix: "/sms" });
});
after(() => sms.close());

test("a client whose address the host does not pass counts as remote: /api needs the token", async () => {
  assert.equal((await handle(new Request("http://sms.example.org/sms/api/messages"))).status, 403);
  assert.equal((await handle(new Request("http://127.0.0.1/sms/api/messages"), { remoteAddress: "127.0.0.1" })).status, 200);
});

test("a body over the limit is a 413 before it is all read; a path outside the prefix a 404", async () => {
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(64 * 1024));
    },
  });
  const request = new Request("http://127.0.0.1/sms/backend/http/", { method: "POST", body: endless, duplex: "half" } as RequestInit);
  assert.equal((await handle(request, { remoteAddress: "127.0.0.1" })).status, 413);
  assert.ok(pulled < 40, `read ${pulled} chunks of 64 KiB`);
  assert.equal((await handle(new Request("http://127.0.0.1/elsewhere"))).status, 404);
});

test("the gateway's answer comes back whole: status, headers and body", async () => {
  const response = await handle(new Request("http://127.0.0.1/sms/backend/http/?identity=1&text=hello"), { remoteAddress: "127.0.0.1" });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "OK");
  const refused = await handle(new Request("http://127.0.0.1/sms/backend/http/?identity=1"), { remoteAddress: "127.0.0.1" });
  assert.equal(refused.status, 400);
  assert.match(refused.headers.get("content-type") ?? "", /text\/plain/);
  assert.match(await refused.text(), /^form failed to validate\ntext: This field is required\.$/);
});

test("the tester's event stream, which would never end under a handler that answers whole responses, is refused at once so that the page polls", async () => {
  const withTester = await createRapidSms(
    { installedBackends: { httptester: { engine: "httptester" } }, database: "sqlite::memory:", tester: true },
    { env: {} },
  );
  try {
    const tester = await fetchHandler(withTester, { prefix: "/sms" });
    const local = { remoteAddress: "127.0.0.1" };
    const events = await tester(new Request("http://127.0.0.1/sms/tester/api/events"), local);
    assert.equal(events.status, 501);
    assert.match(await events.text(), /need a streaming mount.*the page polls instead/);
    assert.equal((await tester(new Request("http://127.0.0.1/sms/tester/api/messages"), local)).status, 200);
    assert.equal((await handle(new Request("http://127.0.0.1/sms/tester/api/events"), local)).status, 404, "no tester configured, no tester routes");
    for (const path of [
      "/sms/tester/api/messages",
      "/sms/%74ester/api/messages",
      "/sms/tester/api%2Fmessages",
      "/sms/TESTER/api/messages",
      "/sms//tester/api/messages",
    ]) {
      const remote = await tester(new Request(`http://sms.example.org${path}`));
      assert.ok([403, 404].includes(remote.status), `${path} from a remote client without the token: ${remote.status}`);
      if (path === "/sms/tester/api/messages" || path.includes("%"))
        assert.equal(remote.status, 403, `${path} reaches the tester's routes and is refused there`);
    }
  } finally {
    await withTester.close();
  }
});
