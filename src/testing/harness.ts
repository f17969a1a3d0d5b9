import { z } from "zod";
import type { AppClass } from "../apps/app.ts";
import type { OptOutSettings } from "../config/operations.ts";
import { BackendBase, type BackendClass, type SendRequest } from "../backends/backend.ts";
import { MessageSendingError } from "../errors.ts";
import type { Connection } from "../messages/connection.ts";
import { silentLogger } from "../logger.ts";
import { Pipeline } from "../pipeline/pipeline.ts";
import { pipelineOptionsSchema, type PipelineSettings } from "../pipeline/policy.ts";
import { EmbeddedQueue } from "../queue/embedded.ts";
import type { RouterSettings } from "../router/api.ts";
import { Router } from "../router/router.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/store.ts";

/** Records every `send` call in memory. */
export class MockBackend extends BackendBase<object> {
  static override engine = "mock";
  static override optionsSchema = z.object({}).passthrough();
  readonly messages: SendRequest[] = [];

  override async send(request: SendRequest): Promise<void> {
    this.messages.push(request);
  }

  clear(): void {
    this.messages.length = 0;
  }
}

/** Fails every send with a plain Error, as a buggy backend would. */
export class RaisesBackend extends MockBackend {
  static override engine = "raises";

  override async send(request: SendRequest): Promise<void> {
    this.messages.push(request);
    throw new Error("Error!");
  }
}

/** Fails the identities that contain "1"; the others are sent. */
export class FailedIdentitiesBackend extends MockBackend {
  static override engine = "failed-identities";

  override async send(request: SendRequest): Promise<void> {
    this.messages.push(request);
    const failed = request.identities.filter((identity) => identity.includes("1"));
    if (failed.length > 0) throw new MessageSendingError("some identities failed", { failedIdentities: failed });
  }
}

export interface TestRouterOptions {
  apps?: readonly AppClass[];
  /** Backend name → class and options; default: one MockBackend named `mockbackend`. */
  backends?: Record<string, BackendClass | { engine: BackendClass; options?: object }>;
  settings?: Partial<RouterSettings>;
  /** Defaults here are fast: polls every 10 ms, retries after 10 ms, 50 ms at most. */
  pipeline?: PipelineSettings;
  store?: Store;
  /** Leave the pipeline stopped (messages are accepted and queued, but not processed or sent). */
  stopped?: boolean;
  /** The config's `publicUrl`: the base URL backends check URL signatures against and build callbacks from. */
  publicUrl?: string;
  /** STOP and START (the config's `optOut`); default off. */
  optOut?: OptOutSettings | null;
}

export interface TestRouter {
  router: Router;
  pipeline: Pipeline;
  store: Store;
  backends: ReadonlyMap<string, BackendBase<object>>;
  /** Connections on `backendName` (default `mockbackend`). */
  connections(identities: readonly string[], backendName?: string): Promise<Connection[]>;
  /** Sends recorded by a MockBackend (default `mockbackend`); call `idle()` first. */
  sent(backendName?: string): SendRequest[];
  /** Resolves when every message is processed and every transmission final. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** A router and its pipeline on an in-memory SQLite store, for tests of apps and backends. */
export async function createTestRouter(options: TestRouterOptions = {}): Promise<TestRouter> {
  const store = options.store ?? openSqliteStore(":memory:");
  await store.migrate();
  const specs = options.backends ?? { mockbackend: MockBackend };
  const backends = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => {
      const { engine, options: backendOptions } = typeof spec === "function" ? { engine: spec, options: {} } : spec;
      return [name, { engine, options: engine.optionsSchema.parse(backendOptions ?? {}) }];
    }),
  );
  const router = new Router({ apps: options.apps, settings: options.settings, optOut: options.optOut });
  const pipeline = new Pipeline({
    store,
    queue: new EmbeddedQueue(silentLogger),
    router,
    backends,
    options: pipelineOptionsSchema.parse({ pollMs: 10, baseDelayMs: 10, maxDelayMs: 50, ...options.pipeline }),
    logger: silentLogger,
    publicUrl: options.publicUrl ?? null,
  });
  if (!options.stopped) await pipeline.start();
  return {
    router,
    pipeline,
    store,
    backends: pipeline.backends,
    connections: (identities, backendName = "mockbackend") => router.lookupConnections(backendName, identities),
    sent(backendName = "mockbackend") {
      const backend = pipeline.backends.get(backendName);
      if (!(backend instanceof MockBackend)) throw new Error(`backend ${backendName} is not a MockBackend`);
      return backend.messages;
    },
    idle: () => pipeline.idle(),
    async close() {
      if (pipeline.running) await pipeline.idle();
      await pipeline.stop();
      await pipeline.closeBackends();
      await store.close();
    },
  };
}

export { type AppsUnderTest, type SentMessage, TestClock, testApps, type TestAppsOptions } from "./test-apps.ts";
