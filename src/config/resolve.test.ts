import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { AppBase } from "../apps/app.ts";
import { DefaultResponseApp } from "../apps/default-response.ts";
import { EchoApp, PingApp } from "../apps/echo.ts";
import { DatabaseBackend } from "../backends/database/index.ts";
import { HttpBackend } from "../backends/http/index.ts";
import { HttpTesterBackend } from "../backends/message-tester/index.ts";
import { ConfigError } from "../errors.ts";
import type { RapidSmsConfig } from "./config.ts";
import { resolveConfig } from "./resolve.ts";

const appModuleUrl = pathToFileURL(join(import.meta.dirname, "../apps/app.ts")).href;

const tmp = mkdtempSync(join(tmpdir(), "rapidsms-resolve-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface ResolvesCase {
  name: string;
  config: RapidSmsConfig | Record<string, unknown>;
  check: (resolved: Awaited<ReturnType<typeof resolveConfig>>) => void;
}

const resolves: ResolvesCase[] = [
  {
    name: "the DESIGN §4a example (without kannel and vumi) resolves every backend to its engine with defaults applied",
    config: {
      installedBackends: {
        http: { engine: "http" },
        "custom-http": { engine: "http", params: { identityName: "phone", textName: "message" } },
        httptester: { engine: "httptester" },
        db: { engine: "database" },
      },
      apps: ["echo", "ping", "default"],
      database: "sqlite:./rapidsms.db",
    },
    check(resolved) {
      assert.deepEqual(Object.keys(resolved.backends), ["http", "custom-http", "httptester", "db"]);
      assert.equal(resolved.backends.http.engine, HttpBackend);
      assert.deepEqual(resolved.backends.http.options, { sendMethod: "POST", sendParams: {}, sendBody: "form", sendHeaders: {}, timeoutMs: 10_000 });
      assert.equal(resolved.backends["custom-http"].engine, HttpBackend);
      assert.deepEqual((resolved.backends["custom-http"].options as { params: unknown }).params, { identityName: "phone", textName: "message" });
      assert.equal(resolved.backends.httptester.engine, HttpTesterBackend);
      assert.equal(resolved.backends.db.engine, DatabaseBackend);
      assert.deepEqual(resolved.apps, [EchoApp, PingApp, DefaultResponseApp]);
      assert.equal(resolved.database, "sqlite:./rapidsms.db");
      assert.equal(resolved.port, 8000);
      assert.equal(resolved.host, "127.0.0.1");
    },
  },
  {
    name: "one engine installed under several names gives each name its own options",
    config: {
      installedBackends: {
        "gateway-a": { engine: "http", sendUrl: "http://127.0.0.1:9/a" },
        "gateway-b": { engine: "http", sendUrl: "http://127.0.0.1:9/b", sendMethod: "get" },
      },
    },
    check(resolved) {
      assert.equal(resolved.backends["gateway-a"].engine, HttpBackend);
      assert.equal(resolved.backends["gateway-b"].engine, HttpBackend);
      assert.deepEqual(resolved.backends["gateway-a"].options, {
        sendUrl: "http://127.0.0.1:9/a",
        sendMethod: "POST",
        sendParams: {},
        sendBody: "form",
        sendHeaders: {},
        timeoutMs: 10_000,
      });
      assert.deepEqual(resolved.backends["gateway-b"].options, {
        sendUrl: "http://127.0.0.1:9/b",
        sendMethod: "GET",
        sendParams: {},
        sendBody: "form",
        sendHeaders: {},
        timeoutMs: 10_000,
      });
    },
  },
  {
    name: "a RapidSMS-style ENGINE dotted path resolves to the database engine",
    config: { installedBackends: { db: { ENGINE: "rapidsms.backends.database.DatabaseBackend" } } },
    check(resolved) {
      assert.equal(resolved.backends.db.engine, DatabaseBackend);
      assert.deepEqual(resolved.backends.db.options, {});
    },
  },
  {
    name: "a backend class given as engine is used as is",
    config: { installedBackends: { db: { engine: DatabaseBackend } } },
    check(resolved) {
      assert.equal(resolved.backends.db.engine, DatabaseBackend);
    },
  },
  {
    name: "snake_case and UPPER_CASE option keys are normalised to camelCase, nested params too, sendParams names kept",
    config: {
      installedBackends: {
        gw: {
          engine: "http",
          SEND_URL: "http://127.0.0.1:9/x",
          send_params: { user_name: "u", PassWord: "p" },
          TIMEOUT_MS: 500,
          params: { identity_name: "phone", text_name: "message" },
        },
      },
    },
    check(resolved) {
      assert.deepEqual(resolved.backends.gw.options, {
        sendUrl: "http://127.0.0.1:9/x",
        sendMethod: "POST",
        sendParams: { user_name: "u", PassWord: "p" },
        sendBody: "form",
        sendHeaders: {},
        timeoutMs: 500,
        params: { identityName: "phone", textName: "message" },
      });
    },
  },
  {
    name: "RapidSMS router settings with dotted keys such as router.celery.eager are dropped",
    config: { installedBackends: { db: { engine: "database", "router.celery.eager": true, "router.celery.queue": "q" } } },
    check(resolved) {
      assert.deepEqual(resolved.backends.db.options, {});
    },
  },
  {
    name: "RapidSMS-style top-level names (INSTALLED_BACKENDS, INSTALLED_APPS, rapidsms.contrib.default) are accepted",
    config: { INSTALLED_BACKENDS: { tester: { ENGINE: "httptester" } }, INSTALLED_APPS: ["echo", "rapidsms.contrib.default"] },
    check(resolved) {
      assert.equal(resolved.backends.tester.engine, HttpTesterBackend);
      assert.deepEqual(resolved.apps, [EchoApp, DefaultResponseApp]);
    },
  },
  {
    name: "an app given as a class is installed as that class",
    config: { apps: [PingApp, "echo"] },
    check(resolved) {
      assert.deepEqual(resolved.apps, [PingApp, EchoApp]);
    },
  },
  {
    name: "a port given as a string of digits is taken as a number",
    config: { port: "8123" as unknown as number },
    check(resolved) {
      assert.equal(resolved.port, 8123);
    },
  },
];

describe("resolveConfig: valid configurations", () => {
  for (const c of resolves) {
    test(c.name, async () => c.check(await resolveConfig(c.config as RapidSmsConfig)));
  }
});

interface FailsCase {
  name: string;
  config: Record<string, unknown>;
  /** Every one of these must appear in the error message. */
  mentions: string[];
  /** None of these may appear in it. */
  hides?: string[];
}

const fails: FailsCase[] = [
  {
    name: "an unknown engine names the backend and lists the installed engines",
    config: { installedBackends: { sms: { engine: "carrier-pigeon" } } },
    mentions: ['backend "sms"', '"carrier-pigeon"', "database", "http", "httptester"],
  },
  {
    name: "an unknown RapidSMS dotted path is an unknown engine",
    config: { installedBackends: { sms: { ENGINE: "rapidsms.backends.nope.NopeBackend" } } },
    mentions: ['backend "sms"', "rapidsms.backends.nope.NopeBackend", "installed engines"],
  },
  {
    name: "a missing engine names the backend and the engine key",
    config: { installedBackends: { sms: { sendUrl: "http://127.0.0.1:9/" } } },
    mentions: ['backend "sms"', '"engine"'],
  },
  {
    name: "an engine that is a function but not a backend class is refused",
    config: { installedBackends: { sms: { engine: class NotABackend {} } } },
    mentions: ['backend "sms"', "BackendBase"],
  },
  {
    name: "a bad option type names the backend, the option, what was expected and what was given",
    config: { installedBackends: { sms: { engine: "http", timeoutMs: "abc" } } },
    mentions: ['backend "sms"', '"timeoutMs"', "expected number", "string"],
  },
  {
    name: "an UPPER_CASE option with a bad value is reported under its camelCase name",
    config: { installedBackends: { sms: { engine: "http", SEND_METHOD: "FETCH" } } },
    mentions: ['backend "sms"', '"sendMethod"', "GET", "POST"],
  },
  {
    name: "a bad value inside a list names the element",
    config: { installedBackends: { sms: { engine: "http", methods: ["post", "fetch"] } } },
    mentions: ['backend "sms"', '"methods.1"', "expected one of get, post", '"fetch"'],
  },
  {
    name: "an unknown option key names the backend and the key, and lists the options the engine takes",
    config: { installedBackends: { sms: { engine: "http", sendUrll: "http://127.0.0.1:9/" } } },
    mentions: ['backend "sms"', '"sendUrll"', "sendUrl", "sendParams"],
  },
  {
    name: "an option given to an engine that takes none is an unknown option",
    config: { installedBackends: { db: { engine: "database", sendUrl: "http://127.0.0.1:9/" } } },
    mentions: ['backend "db"', '"sendUrl"'],
  },
  {
    name: "a backend name with a slash is refused because it is part of a URL",
    config: { installedBackends: { "a/b": { engine: "http" } } },
    mentions: ['backend "a/b"', "/backend/<name>/"],
  },
  {
    name: "a backend name with a space is refused because it is part of a URL",
    config: { installedBackends: { "my backend": { engine: "http" } } },
    mentions: ['backend "my backend"', "letters, digits"],
  },
  {
    name: "an unknown app name lists the built-in apps and how to give your own",
    config: { apps: ["echo", "survey"] },
    mentions: ['app "survey"', "echo", "ping", "default", "./apps/"],
  },
  {
    name: "an app class that is not an AppBase subclass is refused",
    config: { apps: [class Survey {}] },
    mentions: ["app Survey", "AppBase"],
  },
  {
    name: "an app module path that does not exist names the path",
    config: { apps: ["./apps/missing-app.ts"] },
    mentions: ['app "./apps/missing-app.ts"', "missing-app.ts"],
  },
  {
    name: "an unknown top-level key is named, with the keys that are accepted",
    config: { installedBackend: { http: { engine: "http" } } },
    mentions: ['"installedBackend"', "installedBackends"],
  },
  {
    name: "a bad top-level value names the key",
    config: { port: "eighty" },
    mentions: ["port", "number"],
  },
  {
    name: "a table prefix that would need quoting in SQL is refused with the form expected",
    config: { tablePrefix: "sms-" },
    mentions: ["tablePrefix", "letters, digits and underscores"],
  },
  {
    name: "a database schema that would need quoting in SQL is refused with the form expected",
    config: { databaseSchema: "my schema" },
    mentions: ["databaseSchema", "schema name"],
  },
  {
    name: "a wrong type for sendParams never shows the secret value",
    config: { installedBackends: { sms: { engine: "http", sendParams: "s3cret" } } },
    mentions: ['backend "sms"', '"sendParams"'],
    hides: ["s3cret"],
  },
  {
    name: "an error in another option never shows the sendParams password",
    config: { installedBackends: { sms: { engine: "http", sendParams: { password: "s3cret" }, sendUrl: "not a url" } } },
    mentions: ['backend "sms"', '"sendUrl"'],
    hides: ["s3cret"],
  },
  {
    name: "an unknown option next to sendParams never shows the sendParams password",
    config: { installedBackends: { sms: { engine: "http", sendParams: { password: "s3cret" }, bogus: "s3cret" } } },
    mentions: ['backend "sms"', '"bogus"'],
    hides: ["s3cret"],
  },
];

describe("resolveConfig: invalid configurations throw one ConfigError line", () => {
  for (const c of fails) {
    test(c.name, async () => {
      const error = await resolveConfig(c.config as RapidSmsConfig, { baseDir: tmp }).then(
        () => assert.fail("expected a ConfigError"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.equal(error.code, "CONFIG_INVALID");
      assert.ok(!error.message.includes("\n"), `expected one line, got:\n${error.message}`);
      for (const text of c.mentions) assert.ok(error.message.includes(text), `expected ${JSON.stringify(text)} in: ${error.message}`);
      for (const text of c.hides ?? []) assert.ok(!error.message.includes(text), `expected no ${JSON.stringify(text)} in: ${error.message}`);
    });
  }
});

describe("resolveConfig: apps from modules", () => {
  const dir = join(tmp, "project");
  const appsDir = join(dir, "apps");
  mkdirSync(appsDir, { recursive: true });

  test("an app given as a module path is loaded relative to the config file's folder", async () => {
    writeFileSync(
      join(appsDir, "survey.ts"),
      `import { AppBase } from ${JSON.stringify(appModuleUrl)};\nexport default class SurveyApp extends AppBase {\n  static appName = "survey";\n}\n`,
    );
    const resolved = await resolveConfig({ apps: ["echo", "./apps/survey.ts"] }, { baseDir: dir, source: join(dir, "rapidsms.config.json") });
    assert.equal(resolved.apps.length, 2);
    assert.equal(resolved.apps[0], EchoApp);
    assert.ok(resolved.apps[1].prototype instanceof AppBase);
    assert.equal((resolved.apps[1] as unknown as { appName: string }).appName, "survey");
  });

  test("a module exporting no app class is refused with its path", async () => {
    writeFileSync(join(appsDir, "not-an-app.ts"), "export const answer = 42;\n");
    await assert.rejects(
      resolveConfig({ apps: ["./apps/not-an-app.ts"] }, { baseDir: dir }),
      (error: unknown) => error instanceof ConfigError && /not-an-app\.ts exports no AppBase subclass/.test(error.message),
    );
  });
});

describe("resolveConfig: overrides", () => {
  test("overrides (flags, environment) win over the file's port, host and database", async () => {
    const resolved = await resolveConfig(
      { port: 8000, host: "0.0.0.0", database: "sqlite:./file.db" },
      { overrides: { port: 9001, host: "127.0.0.2", database: "sqlite::memory:" } },
    );
    assert.deepEqual([resolved.port, resolved.host, resolved.database], [9001, "127.0.0.2", "sqlite::memory:"]);
  });

  test("undefined overrides leave the file's values alone", async () => {
    const resolved = await resolveConfig({ port: 8100 }, { overrides: { port: undefined } });
    assert.equal(resolved.port, 8100);
  });
});

describe("resolveConfig: the operations keys (metrics, optOut, webhooks, retention)", () => {
  test("by default metrics are on, opt-outs on with the English keywords, no webhook secret and no retention", async () => {
    const resolved = await resolveConfig({});
    assert.equal(resolved.metrics, true);
    assert.deepEqual(resolved.optOut?.stop, ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]);
    assert.deepEqual(resolved.optOut?.start, ["START", "UNSTOP", "YES"]);
    assert.match(resolved.optOut?.confirmation ?? "", /unsubscribed/);
    assert.equal(resolved.webhooks.secret, null);
    assert.equal(resolved.retention, null);
  });

  test("optOut: false turns opt-outs off; given keywords replace the defaults", async () => {
    assert.equal((await resolveConfig({ optOut: false })).optOut, null);
    const resolved = await resolveConfig({ optOut: { stop: ["STOP", "ACHA"], confirmation: null } });
    assert.deepEqual(resolved.optOut?.stop, ["STOP", "ACHA"]);
    assert.equal(resolved.optOut?.confirmation, null);
  });

  test("a keyword of two words, a short webhook secret and a retention of 0 days are refused, naming the key", async () => {
    await assert.rejects(resolveConfig({ optOut: { stop: ["PLEASE STOP"] } }), (e: unknown) => e instanceof ConfigError && /optOut/.test(e.message));
    await assert.rejects(resolveConfig({ webhooks: { secret: "short" } }), (e: unknown) => e instanceof ConfigError && /webhooks\.secret.*16/.test(e.message));
    await assert.rejects(resolveConfig({ retention: { days: 0 } }), (e: unknown) => e instanceof ConfigError && /retention\.days/.test(e.message));
  });

  test("a keyword that is punctuation or invisible characters alone is refused (it would make an empty text a STOP), naming optOut.stop or optOut.start", async () => {
    for (const [list, word] of [
      ["stop", "?"],
      ["stop", "..."],
      ["start", "\u200B"],
      ["start", "¡!"],
    ] as const) {
      await assert.rejects(
        resolveConfig({ optOut: { stop: ["STOP"], [list]: list === "stop" ? ["STOP", word] : [word] } }),
        (e: unknown) => e instanceof ConfigError && new RegExp(`optOut\\.${list}\\.\\d.*more than punctuation`).test(e.message),
        `${list}: ${JSON.stringify(word)}`,
      );
    }
    assert.deepEqual(
      (await resolveConfig({ optOut: { stop: ["STOP!", "ＡＣＨＡ"] } })).optOut?.stop,
      ["STOP!", "ＡＣＨＡ"],
      "punctuation around a word is fine",
    );
  });

  test("the webhook secret override (RAPIDSMS_WEBHOOK_SECRET) wins over the file's and keeps its other webhook settings", async () => {
    const resolved = await resolveConfig({ webhooks: { secret: "a".repeat(16), timeoutMs: 500 } }, { overrides: { webhookSecret: "b".repeat(20) } });
    assert.equal(resolved.webhooks.secret, "b".repeat(20));
    assert.equal(resolved.webhooks.timeoutMs, 500);
  });
});
