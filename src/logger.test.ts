import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { resolveConfig } from "./config/resolve.ts";
import { configSecrets, createLogger } from "./logger.ts";

test("configSecrets holds webhooks.secret and the credentials and query values of the webhook app's URL, and the log cuts them out", async () => {
  const config = await resolveConfig({
    database: "sqlite::memory:",
    installedBackends: { db: { engine: "database" } },
    apps: ["webhook"],
    appSettings: { webhook: { url: "https://hook-user:hook-pass-123@app.example.org/in?token=tok-s3cret-9&v=2" } },
    webhooks: { secret: "the-webhook-secret-0123456789" },
  });
  const secrets = configSecrets(config);
  for (const secret of ["the-webhook-secret-0123456789", "hook-pass-123", "tok-s3cret-9"]) assert.ok(secrets.includes(secret), secret);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger("info", secrets, sink);
  logger.info({ url: config.appSettings.webhook, secret: config.webhooks.secret }, "forwarding");
  const written = lines.join("");
  for (const secret of ["the-webhook-secret-0123456789", "hook-pass-123", "tok-s3cret-9"]) assert.equal(written.includes(secret), false, secret);
  assert.match(written, /app\.example\.org/);
});
