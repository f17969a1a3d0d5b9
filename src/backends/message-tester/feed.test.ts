import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { ChangeFeed } from "./feed.ts";

async function feedServer() {
  const feed = new ChangeFeed({ version: async () => "1", maxStreams: 5, pollMs: 60_000, heartbeatMs: 60_000 });
  const server = http.createServer((_request, response) => {
    if (!feed.open(response)) response.writeHead(503).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { feed, server, port: (server.address() as AddressInfo).port };
}

test("a stream that the feed ends closes its socket, so a closing server does not wait for a keep-alive client", async () => {
  const { feed, server, port } = await feedServer();
  const agent = new http.Agent({ keepAlive: true });
  try {
    const request = http.get({ port, host: "127.0.0.1", agent });
    const [response] = (await once(request, "response")) as [http.IncomingMessage];
    assert.equal(response.headers["content-type"], "text/event-stream");
    const [first] = (await once(response, "data")) as [Buffer];
    assert.equal(String(first), "data: 1\n\n");
    const socketClosed = once(request.socket!, "close");
    const serverClosed = new Promise((resolve) => server.close(resolve));
    feed.end();
    response.resume();
    await socketClosed;
    await serverClosed;
    assert.equal(feed.size, 0);
  } finally {
    agent.destroy();
    server.close();
  }
});

test("after end() the feed opens no more streams (a page that reconnects while the server closes)", async () => {
  const { feed, server, port } = await feedServer();
  try {
    feed.end();
    assert.equal(feed.ended, true);
    const response = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(response.status, 503);
    assert.equal(feed.size, 0);
  } finally {
    server.close();
  }
});
