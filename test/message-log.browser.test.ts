import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "csv-parse/sync";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { startFastifyApp } from "../docs/examples/embed-fastify.ts";
import { unlessInCi } from "./support/components.ts";
import { FakeGateway } from "./support/fake-gateway.ts";
import { KANNEL_PASSWORD, messageLogFixture, type MessageLogFixture } from "./support/message-log-fixture.ts";

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
/** MESSAGE_LOG_SCREENSHOTS=docs/images makes the screenshot the docs show. */
const SCREENSHOTS = process.env.MESSAGE_LOG_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), "rapidsms-log-shots-"));
const TOKEN = "message-log-browser-token";

let f: MessageLogFixture;
let context: BrowserContext;
let page: Page;
/** What the page's policy refused, and what its scripts threw: both must stay empty. */
const problems: string[] = [];
const profile = mkdtempSync(join(tmpdir(), "rapidsms-chromium-"));

before(async () => {
  if (SKIP) return;
  // Behind an API token: the browser logs in once (HTTP Basic, the token as password), and the page's calls to /api go with it.
  f = await messageLogFixture({ apiToken: TOKEN });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1200, height: 900 },
    httpCredentials: { username: "ops", password: TOKEN },
    acceptDownloads: true,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    // Chromium asks for /favicon.ico on its own; the page has none.
    if (message.type() === "error" && !message.location().url.endsWith("/favicon.ico")) problems.push(`${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => problems.push(error.message));
});

after(async () => {
  if (SKIP) return;
  await context?.close();
  await f?.close();
  rmSync(profile, { recursive: true, force: true });
});

const rows = () => page.locator("#messages tbody tr");
const search = async (fields: Record<string, string>) => {
  for (const id of ["identity", "backend", "text"]) await page.fill(`#${id}`, fields[id] ?? "");
  for (const id of ["direction", "status"]) await page.selectOption(`#${id}`, fields[id] ?? "");
  const answered = page.waitForResponse((response) => response.url().includes("/api/messages?"));
  await page.click("#search button[type=submit]");
  await answered;
  await page.waitForFunction(() => document.querySelector("#flash")?.textContent === "");
};
const titles = (selector: string) => page.locator(`${selector} title`).allTextContents();

test("in a real browser: the charts count the day's messages, per hour and per backend", { skip: SKIP, timeout: 60_000 }, async () => {
  await page.goto(`${f.url}/messages/`);
  await page.locator("#hourly-chart rect").first().waitFor({ state: "attached" });
  const hourly = await titles("#hourly-chart rect");
  assert.equal(hourly.length, 48, "24 hours, a bar in and a bar out each");
  const sum = (direction: string) => hourly.filter((t) => t.endsWith(` ${direction}`)).reduce((n, t) => n + Number(/: (\d+) \w+$/.exec(t)![1]), 0);
  assert.deepEqual([sum("incoming"), sum("outgoing")], [4, 4]);
  assert.deepEqual(await titles("#backend-chart rect"), ["kannel: 1 delivered (25%)", "kannel: 2 sent (50%)", "kannel: 1 failed (25%)"]);
  assert.equal(await page.textContent("#backend-summary"), "kannel: 1 delivered, 2 sent, 0 pending, 1 failed.");
  assert.match((await page.textContent("#hourly-summary"))!, /^4 incoming and 4 outgoing in the last 24 hours/);
});

test("in a real browser: search by number, by text, by status; the search stays in the address", { skip: SKIP, timeout: 60_000 }, async () => {
  await page.goto(`${f.url}/messages/`);
  await rows().first().waitFor();
  assert.equal(await rows().count(), 8, "every message, newest first");
  await search({ identity: "255700000002" });
  assert.deepEqual(await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-id"))), [f.ids.failed, f.ids.failing]);
  assert.match(page.url(), /\?identity=255700000002$/);
  await search({ text: "PiNg" });
  assert.deepEqual(await rows().locator("td.text").allTextContents(), ["ping"]);
  await search({ status: "E" });
  assert.deepEqual(await rows().locator("td.status").allTextContents(), ["failed"]);
  await search({ identity: "nobody" });
  assert.equal(await page.isVisible("#empty"), true);
  await search({ text: "x", identity: "" });
  await page.reload();
  assert.equal(await page.inputValue("#text"), "x", "a reload keeps the search");
});

test("in a real browser: a timeline shows processing, the app, the reply, each attempt with the gateway's answer redacted, and the delivery report", {
  skip: SKIP,
  timeout: 60_000,
}, async () => {
  await page.goto(`${f.url}/messages/`);
  await search({ identity: "+255700000001", direction: "I", text: "ping" });
  await page.click(`#messages tr[data-id="${f.ids.ping}"] button`);
  await page.locator("#timeline").waitFor({ state: "visible" });
  const events = async () => (await page.locator("#timeline-events li").allInnerTexts()).map((text) => text.replace(/\n+/g, "\n"));
  assert.equal(await page.textContent("#timeline-title"), "Incoming message, received");
  const incoming = (await events()).join("\n");
  assert.match(incoming, /Accepted\nFrom \+255700000001 on kannel/);
  assert.match(incoming, /Processed\nHandled by the app "ping"\n1 reply/);
  assert.match(incoming, /Reply, delivered\n“pong” to \+255700000001/);

  await page.click("#timeline-events button:text('Open this reply')");
  await page.waitForFunction(() => document.querySelector("#timeline-title")?.textContent === "Outgoing message, delivered");
  const outgoing = (await events()).join("\n");
  assert.match(outgoing, /Attempt 1 to \+255700000001 on kannel: sent\nTook \d+ ms\nThe gateway answered: 0: Accepted for delivery/);
  assert.match(outgoing, /Delivery report for \+255700000001: delivered\nDetail: 1 delivery success: DELIVRD/);
  assert.ok(!outgoing.includes(KANNEL_PASSWORD), "the password the gateway echoed is not on the page");

  await search({ status: "E" });
  await page.click(`#messages tr[data-id="${f.ids.failed}"] button`);
  await page.waitForFunction(() => document.querySelector("#timeline-title")?.textContent === "Outgoing message, failed");
  assert.match((await events()).join("\n"), /Attempt 1 to 255700000002 on kannel: failed\nTook \d+ ms\nError: .+/);
});

test("in a real browser: Export CSV downloads the search, formulas defused", { skip: SKIP, timeout: 60_000 }, async () => {
  await page.goto(`${f.url}/messages/`);
  await search({ text: "hyperlink" });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
  assert.match(download.suggestedFilename(), /^messages-[\dT-]+\.csv$/);
  const body = readFileSync((await download.path())!, "utf8");
  const exported: Record<string, string>[] = parse(body, { bom: true, columns: true });
  assert.deepEqual(
    exported.map((r) => [r.id, r.text]),
    [
      [f.ids.formulaReply, `'=HYPERLINK("http://evil.example","click"), "quoted"`],
      [f.ids.formula, `echo =HYPERLINK("http://evil.example","click"), "quoted"`],
    ],
  );
});

test("in a real browser: the screenshot for the docs", { skip: SKIP, timeout: 60_000 }, async (t) => {
  await page.goto(`${f.url}/messages/`);
  await rows().first().waitFor();
  await page.locator("#hourly-chart rect").first().waitFor({ state: "attached" });
  await page.click(`#messages tr[data-id="${f.ids.pong}"] button`);
  await page.locator("#timeline").waitFor({ state: "visible" });
  const shot = join(SCREENSHOTS, "message-log.png");
  await page.screenshot({ path: shot, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a phone-sized screen (overflow ${overflow}px)`);
  await page.setViewportSize({ width: 1200, height: 900 });
  t.diagnostic(`screenshot: ${shot}`);
});

test("in a real browser: a message's text is shown as text, never as markup", { skip: SKIP, timeout: 60_000 }, async () => {
  const text = `<img src=x onerror="document.title='owned'"><b>bold</b>`;
  const response = await fetch(`${f.url}/backend/kannel/?${new URLSearchParams({ id: "255700000009", text })}`);
  assert.equal(response.status, 200);
  await f.system.pipeline.idle();
  await page.goto(`${f.url}/messages/?identity=255700000009&direction=I`);
  await rows().first().waitFor();
  assert.equal(await rows().locator("td.text").first().textContent(), text);
  assert.equal(await page.locator("#messages img, #messages b").count(), 0);
  await rows().locator("button").first().click();
  await page.locator("#timeline").waitFor({ state: "visible" });
  assert.equal(await page.textContent("#timeline-text"), text);
  assert.notEqual(await page.title(), "owned");
  assert.deepEqual(problems, [], "no policy violation, no script error");
});

test("in a real browser: the message log mounted under /sms in a host's Fastify app finds a message sent through the host's route", {
  skip: SKIP,
  timeout: 60_000,
}, async () => {
  const gateway = new FakeGateway();
  gateway.status = 202;
  gateway.answer = "0: Accepted for delivery";
  await gateway.listen();
  const mounted = await startFastifyApp({
    installedBackends: { kannel: { engine: "kannel", sendsmsUrl: `${gateway.url}/cgi-bin/sendsms`, sendsmsParams: { from: "1" } } },
    apps: ["echo"],
    database: "sqlite::memory:",
    pipeline: { pollMs: 20 },
  });
  const tab = await context.newPage();
  try {
    const sent = await fetch(`${mounted.url}/appointments`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phone: "255711000000", date: "Monday" }),
    });
    assert.equal(sent.status, 202);
    await tab.goto(`${mounted.url}/sms/messages`);
    assert.match(tab.url(), /\/sms\/messages\/$/);
    await tab.locator("#messages tbody tr td.text", { hasText: "See you on Monday" }).waitFor({ timeout: 5_000 });
    await tab.locator("#backend-chart rect").first().waitFor({ state: "attached" });
    assert.match((await tab.locator("#backend-chart title").allTextContents()).join(), /^kannel: 1 (sent|pending) \(100%\)$/);
  } finally {
    await tab.close();
    await mounted.close();
    await gateway.close();
  }
});

test("in a real browser: a bulk message's row names its first recipients, and its timeline counts them all and pages them", {
  skip: SKIP,
  timeout: 60_000,
}, async () => {
  const identities = Array.from({ length: 150 }, (_, i) => `2557${String(i).padStart(8, "0")}`);
  const sent = await f.app.inject({
    method: "POST",
    url: "/api/messages",
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { backend: "kannel", identities, text: "bulk news" },
  });
  assert.equal(sent.statusCode, 202);
  const id = sent.json().id;
  await f.system.pipeline.idle();
  await page.goto(`${f.url}/messages/?text=bulk%20news`);
  await page.locator(`#messages tr[data-id="${id}"]`).waitFor();
  assert.equal(await page.textContent(`#messages tr[data-id="${id}"] td.number`), `${identities.slice(0, 3).join(", ")} and 147 more`);
  await page.click(`#messages tr[data-id="${id}"] button`);
  await page.locator("#more-recipients").waitFor();
  const events = () => page.locator("#timeline-events li").allInnerTexts();
  assert.match((await events()).join("\n"), /150 recipients: 150 sent/);
  const attempted = async () => (await events()).filter((text) => /Attempt 1 to /.test(text)).length;
  assert.equal(await attempted(), 100, "the first 100 recipients, each with its attempt");
  assert.equal(await page.textContent("#more-recipients"), "Show the next 50 of 50 more recipients");
  await page.click("#more-recipients");
  await page.locator("#more-recipients").waitFor({ state: "detached" });
  assert.equal(await attempted(), 150);
  assert.match((await events()).join("\n"), new RegExp(`Attempt 1 to ${identities[149]} on kannel: sent`));
  assert.deepEqual(problems, [], "no policy violation, no script error");
});
