/** The baseline: a bare `node:http` hello world, in its own process like the server under test. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const server = createServer((_request, response) => {
  response.writeHead(200, { "content-type": "text/plain" }).end("hello world");
});
server.keepAliveTimeout = 60_000;
process.on("disconnect", () => process.exit(0));
server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as AddressInfo).port }));
