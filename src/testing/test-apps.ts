import { type AppClass, appTables } from "../apps/app.ts";
import type { Translatable, Translations } from "../apps/translations.ts";
import { builtinApps } from "../apps/builtin.ts";
import type { Fields, OutgoingKind, OutgoingMessage } from "../messages/messages.ts";
import type { RouterPort, RouterSettings } from "../router/api.ts";
import { Router } from "../router/router.ts";
import { appDatabase, migrateApps } from "../store/app-data/migrate.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { ContactRecord, Store } from "../store/store.ts";

export interface TestAppsOptions {
  /** The apps, in order: classes, or the names of built-in apps (`echo`, `ping`, `default`). */
  apps: readonly (AppClass | string)[];
  /** Each app's settings by app name, as the config's `appSettings`. */
  appSettings?: Record<string, unknown>;
  /** `projectName`, `defaultResponse`, and `language` (of recipients who have none). */
  settings?: Partial<RouterSettings>;
  /** Translations of the deployment's own, as the config's `translations`. */
  translations?: Translations;
  /** The backend messages come in on and go out through; default `mockbackend`. */
  backend?: string;
  /** Where the clock starts (see TestClock); default the time now. */
  now?: Date | string | number;
}

/** A message the apps sent, as a gateway would get it: one per recipient. */
export interface SentMessage {
  backend: string;
  identity: string;
  text: string;
  /** `error` for error replies (`respondError`). */
  kind: OutgoingKind;
  /** The id of the message this answers, or null for a message sent on its own. */
  inResponseTo: string | null;
}

/** The time apps see through `router.now()`: it stands still until a test moves it. */
export class TestClock {
  private at: number;

  constructor(start: Date | string | number = Date.now()) {
    this.at = toTime(start);
  }

  now(): Date {
    return new Date(this.at);
  }

  set(time: Date | string | number): void {
    this.at = toTime(time);
  }

  /** Moves the clock on by `ms` milliseconds, or by days, hours, minutes and seconds. */
  advance(by: number | { days?: number; hours?: number; minutes?: number; seconds?: number }): void {
    const ms = typeof by === "number" ? by : (((by.days ?? 0) * 24 + (by.hours ?? 0)) * 60 + (by.minutes ?? 0)) * 60_000 + (by.seconds ?? 0) * 1_000;
    if (!Number.isFinite(ms)) throw new RangeError("advance the clock by a finite time");
    this.at += ms;
  }
}

export interface AppsUnderTest {
  /** Runs an incoming message through the apps and answers the texts of its replies, in order. */
  receive(text: string, identity: string, options?: { backend?: string; fields?: Fields }): Promise<string[]>;
  /** A contact for `identity` (on the test's backend), with a name, a language and fields: replies to it follow its language. */
  contact(identity: string, init?: { name?: string; language?: string; fields?: Fields }): Promise<ContactRecord>;
  /** Sends as an app would (`router.send`): the outgoing phases run; what is sent lands in `outbox`. */
  send(text: string | Translatable, identities: string | readonly string[], options?: { backend?: string }): Promise<OutgoingMessage[]>;
  /** Every message sent so far, oldest first; empty it with `outbox.length = 0`. */
  readonly outbox: SentMessage[];
  readonly clock: TestClock;
  readonly router: Router;
  /** The in-memory store behind the apps: connections, contacts, and the apps' own tables. */
  readonly store: Store;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Apps under test, as RapidSMS's RapidTest has them: `await t.receive("REG Amina 34", "+255…")`
 * answers the replies at once, with no pipeline to wait for, on an in-memory store, with a clock
 * the test moves. What the apps send goes to `outbox`; no gateway is called.
 */
export async function testApps(options: TestAppsOptions): Promise<AppsUnderTest> {
  const backend = options.backend ?? "mockbackend";
  const apps = options.apps.map(resolveApp);
  const store = openSqliteStore(":memory:");
  await store.migrate();
  await migrateApps(store.appData(), appTables(apps));
  const clock = new TestClock(options.now);
  const outbox: SentMessage[] = [];
  const record = (msg: OutgoingMessage) => {
    for (const connection of msg.connections) {
      outbox.push({ backend: connection.backend, identity: connection.identity, text: msg.text, kind: msg.kind, inResponseTo: msg.inResponseTo?.id ?? null });
    }
  };
  const port: RouterPort = {
    accept: async (msg) => ({ id: msg.id, duplicate: false }),
    enqueue: async (msg) => record(msg),
    lookupConnections: (name, identities) => store.lookupConnections({ backend: name, identities }),
    connectionLanguages: (ids) => store.connectionLanguages(ids),
    contacts: store,
    optOuts: store,
  };
  const router = new Router({
    apps,
    database: appDatabase(store.appData(), appTables(apps)),
    appSettings: options.appSettings,
    settings: options.settings,
    translations: options.translations,
    port,
    clock: () => clock.now(),
  });
  const close = () => store.close();
  return {
    async receive(text, identity, { backend: name = backend, fields } = {}) {
      const [connection] = await router.lookupConnections(name, [identity]);
      const msg = await router.receive(text, connection, { fields });
      const replies = await router.process(msg);
      for (const reply of replies) record(reply);
      return replies.map((reply) => reply.text);
    },
    contact: (identity, init = {}) => store.createContact({ ...init, connections: [{ backend, identity }] }),
    async send(text, identities, { backend: name = backend } = {}) {
      const list = typeof identities === "string" ? [identities] : identities;
      return router.sendAll(text, await router.lookupConnections(name, list));
    },
    outbox,
    clock,
    router,
    store,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function resolveApp(app: AppClass | string): AppClass {
  if (typeof app !== "string") return app;
  const found = builtinApps[app];
  if (!found) throw new TypeError(`testApps: "${app}" is not a built-in app (${Object.keys(builtinApps).join(", ")}); pass your app's class`);
  return found;
}

function toTime(time: Date | string | number): number {
  const at = time instanceof Date ? time.getTime() : typeof time === "string" ? Date.parse(time) : time;
  if (!Number.isFinite(at)) throw new RangeError(`not a time: ${String(time)}`);
  return at;
}
