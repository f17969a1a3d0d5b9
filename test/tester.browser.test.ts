import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { resolveConfig } from "../src/config/resolve.ts";
import { createServer } from "../src/server/server.ts";
import { createSystem, type System } from "../src/system.ts";
import { startExpressApp } from "../docs/examples/embed-express.ts";
import { startFastifyApp } from "../docs/examples/embed-fastify.ts";
import { startHonoApp } from "../docs/examples/embed-hono.ts";
import { unlessInCi } from "./support/components.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SKIP = unlessInCi(existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does)`);
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SCREENSHOTS = process.env.TESTER_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), "rapidsms-tester-shots-"));

let system: System;
let app: FastifyInstance;
let url: string;
let context: BrowserContext;
let page: Page;
const profile = mkdtempSync(join(tmpdir(), "rapidsms-chromium-"));

before(async () => {
  if (SKIP) return;
  const config = await resolveConfig({
    installedBackends: { httptester: { engine: "httptester" } },
    apps: ["echo", "ping", "default"],
    database: "sqlite::memory:",
    pipeline: { pollMs: 20 },
    tester: true,
  });
  system = await createSystem(config);
  app = await createServer(system);
  url = await app.listen({ port: 0, host: "127.0.0.1" });
  // playwright-core refuses --user-data-dir in args: a persistent context takes the profile folder instead.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1100, height: 800 },
  });
  page = context.pages()[0] ?? (await context.newPage());
});

after(async () => {
  if (SKIP) return;
  await context?.close();
  await app?.close();
  await system?.close();
  rmSync(profile, { recursive: true, force: true });
});

const rows = () => page.locator("#messages tbody tr");
const rowTexts = async () => (await rows().locator("td.text").allTextContents()).map((t) => t.trim());

test("in a real browser: send a message and see the echo appear, bulk-send a 3-line file, clear", { skip: SKIP, timeout: 60_000 }, async (t) => {
  await page.goto(`${url}/tester/`);
  assert.match(page.url(), /\/tester\/\d{6}\/$/);
  const phone = await page.inputValue("#identity");
  assert.match(phone, /^\d{6}$/);
  assert.equal(await page.isVisible("#empty"), true, "an empty conversation invites to send");

  await page.fill("#identity", "12ab");
  assert.equal(await page.textContent("#identity-error"), "Phone number must be all numeric");
  await page.fill("#identity", "1112223333");
  assert.equal(await page.isHidden("#identity-error"), true);
  assert.match(page.url(), /\/tester\/1112223333\/$/);

  await page.fill("#text", "echo hello");
  const sent = Date.now();
  await page.press("#text", "Enter");
  await page.locator("#messages tbody tr.out td.text", { hasText: "hello" }).waitFor({ timeout: 3_000 });
  t.diagnostic(`the echo reply appeared ${Date.now() - sent} ms after Enter, without reloading`);
  assert.deepEqual((await rowTexts()).slice(0, 2), ["hello", "echo hello"]);
  assert.equal(await page.textContent("#flash"), "Sent message");
  assert.equal(await page.inputValue("#text"), "", "the text box is emptied after sending");

  await page.fill("#text", "line one");
  await page.press("#text", "Shift+Enter");
  await page.type("#text", "line two");
  assert.equal(await page.inputValue("#text"), "line one\nline two", "Shift+Enter starts a new line");
  await page.fill("#text", "");

  await page.setInputFiles("#bulk", { name: "bulk.txt", mimeType: "text/plain", buffer: Buffer.from("echo one\necho two\necho three\n") });
  await page.locator("#messages tbody tr.out td.text", { hasText: "three" }).waitFor({ timeout: 3_000 });
  await page.waitForFunction(() => document.querySelectorAll("#messages tbody tr").length === 8);
  assert.equal(await page.textContent("#flash"), "Sent 3 bulk messages");
  const texts = await rowTexts();
  for (const expected of ["one", "two", "three", "echo one", "echo two", "echo three"]) assert.ok(texts.includes(expected), `${expected} in ${texts}`);
  assert.deepEqual(
    await rows()
      .locator("td.direction")
      .allTextContents()
      .then((d) => new Set(d)),
    new Set(["« outgoing", "» incoming"]),
  );

  const desktop = join(SCREENSHOTS, "message-tester.png");
  await page.screenshot({ path: desktop, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a phone-sized screen (overflow ${overflow}px)`);
  const phoneShot = join(SCREENSHOTS, "message-tester-phone.png");
  await page.screenshot({ path: phoneShot, fullPage: true });
  await page.setViewportSize({ width: 1100, height: 800 });
  t.diagnostic(`screenshots: ${desktop} and ${phoneShot}`);

  await page.fill("#identity", "5550000");
  await page.fill("#text", "ping");
  await page.press("#text", "Enter");
  await page.locator("#messages tbody tr.out td.text", { hasText: "pong" }).waitFor({ timeout: 3_000 });
  await page.click("#clear");
  await page.waitForFunction(() => !document.body.textContent!.includes("pong"));
  assert.equal(await page.textContent("#flash"), "Cleared 5550000 messages");
  assert.equal(await rows().count(), 8, "other numbers' messages stay");

  const asked: string[] = [];
  page.once("dialog", (dialog) => {
    asked.push(dialog.message());
    void dialog.dismiss();
  });
  await page.click("#clear-all");
  await page.waitForTimeout(200);
  assert.deepEqual(asked, ["Clear the messages of every tester number? This cannot be undone."]);
  assert.equal(await system.store.countBackendMessages({ name: "httptester" }), 8, "dismissing the question clears nothing");

  page.once("dialog", (dialog) => void dialog.accept());
  await page.click("#clear-all");
  await page.locator("#empty").waitFor({ state: "visible" });
  assert.equal(await page.textContent("#flash"), "Cleared all messages");
  assert.equal(await system.store.countBackendMessages({ name: "httptester" }), 0);
});

test("in a real browser with an API token: the login prompt takes the token as password, and the page works", { skip: SKIP, timeout: 60_000 }, async () => {
  const token = "browser-token-of-enough-length";
  const guarded = await createSystem(
    await resolveConfig({
      installedBackends: { httptester: { engine: "httptester" } },
      apps: ["echo"],
      database: "sqlite::memory:",
      pipeline: { pollMs: 20 },
      tester: true,
      apiToken: token,
    }),
  );
  const guardedApp = await createServer(guarded);
  const base = await guardedApp.listen({ port: 0, host: "127.0.0.1" });
  const profiles = [mkdtempSync(join(tmpdir(), "rapidsms-chromium-")), mkdtempSync(join(tmpdir(), "rapidsms-chromium-"))];
  const launch = (dir: string, credentials?: { username: string; password: string }) =>
    chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: FLAGS, httpCredentials: credentials });
  try {
    const stranger = await launch(profiles[0]);
    // Without credentials Chromium gets the 401 and has nothing to answer it with.
    await assert.rejects((stranger.pages()[0] ?? (await stranger.newPage())).goto(`${base}/tester/`, { timeout: 10_000 }), /ERR_INVALID_AUTH_CREDENTIALS/);
    await stranger.close();

    const tester = await launch(profiles[1], { username: "tester", password: token });
    const page = tester.pages()[0] ?? (await tester.newPage());
    const response = await page.goto(`${base}/tester/`);
    assert.equal(response?.status(), 200, "Chromium answered the Basic challenge with the token");
    await page.fill("#text", "echo behind a login");
    await page.press("#text", "Enter");
    await page.locator("#messages tbody tr.out td.text", { hasText: "behind a login" }).waitFor({ timeout: 5_000 });
    await tester.close();
  } finally {
    await guardedApp.close();
    await guarded.close();
    for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
  }
});

for (const [host, start] of [
  ["Express", startExpressApp],
  ["Fastify", startFastifyApp],
  ["Hono (the fetch handler: the page polls)", startHonoApp],
] as const) {
  test(`in a real browser: the tester mounted under /sms in a host's ${host} app sends a message and shows its echo`, {
    skip: SKIP,
    timeout: 60_000,
  }, async () => {
    const mounted = await start({
      installedBackends: { httptester: { engine: "httptester" } },
      apps: ["echo"],
      database: "sqlite::memory:",
      pipeline: { pollMs: 20 },
      tester: true,
    });
    const tab = await context.newPage();
    try {
      await tab.goto(`${mounted.url}/sms/tester`);
      assert.match(tab.url(), /\/sms\/tester\/\d{6}\/$/);
      await tab.fill("#identity", "2223334444");
      await tab.waitForURL(/\/sms\/tester\/2223334444\/$/, { timeout: 5_000 });
      await tab.fill("#text", "echo from the host");
      await tab.press("#text", "Enter");
      await tab.locator("#messages tbody tr.out td.text", { hasText: "from the host" }).waitFor({ timeout: 5_000 });
      assert.equal(await tab.textContent("#flash"), "Sent message");
      const health = await (await fetch(`${mounted.url}/sms/healthz`)).json();
      assert.equal(health.role, "all", "the host started the workers");
    } finally {
      await tab.close();
      await mounted.close();
    }
  });
}
