import type { AppClass } from "../apps/app.ts";
import type { BackendClass } from "../backends/backend.ts";
import type { PipelineOptions, PipelineSettings } from "../pipeline/policy.ts";
import type { OptOutSettings, RetentionSettings, WebhookSettings, optOutSchema, retentionSchema, webhooksSchema } from "./operations.ts";
import type { z } from "zod";

/** One `installedBackends` entry: the engine, and that engine's options. */
export interface BackendSettings {
  /** An engine name (`http`, `kannel`, …), or a backend class from a .ts/.js config. */
  engine?: string | BackendClass;
  /** RapidSMS-style: a dotted path such as `rapidsms.backends.kannel.KannelBackend`. */
  ENGINE?: string | BackendClass;
  [option: string]: unknown;
}

export interface RapidSmsConfig {
  /** Backends by name; inbound traffic for one arrives at `/backend/<name>/`. */
  installedBackends?: Record<string, BackendSettings>;
  /**
   * More URLs for backends' views, as RapidSMS's urls.py ties any URL to a view:
   * `{ "/sms/incoming/": { "backend": "mybackend" }, "/dlr/": { "backend": "kannel", "view": "status/" } }`.
   * `view` is the view's path under `/backend/<name>/` (default: its main view). The
   * `/backend/<name>/` URLs stay.
   */
  urls?: Record<string, UrlPattern>;
  /** App names (`echo`, `ping`, `default`), module paths relative to the config file, or classes. */
  apps?: readonly (string | AppClass)[];
  /** Each app's own settings, by app name, checked by the app's `settingsSchema` (see docs/apps.md). */
  appSettings?: Record<string, unknown>;
  /** `sqlite:PATH` (relative to the config file), `sqlite::memory:`, or `postgres://…` (also DATABASE_URL). */
  database?: string;
  /**
   * Starts the name of every table, index and constraint RapidSMS makes (`"rapidsms_"` gives
   * `rapidsms_messages`, …): for a database shared with other apps. Default none, which keeps
   * the names of databases RapidSMS made before. Set it before the first start: it names the
   * tables, it does not rename them.
   */
  tablePrefix?: string;
  /** PostgreSQL: the schema RapidSMS's tables live in, created when missing; default the connection's current schema. */
  databaseSchema?: string | null;
  /** `redis://…` (also REDIS_URL) to share work through BullMQ; default: the embedded queue on the store. */
  queue?: string | null;
  port?: number;
  host?: string;
  projectName?: string;
  /** The `default` app's answer; `%(project_name)s` is replaced. `null` disables it. */
  defaultResponse?: string | null;
  /** The language of contacts who have none, and of everyone who is no contact (RapidSMS's LANGUAGE_CODE); default `en`. */
  language?: string;
  /** Texts in other languages: language tag → source text → translation; they win over the apps' own and the built-in ones. */
  translations?: Record<string, Record<string, string>>;
  logLevel?: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Batching, retries, leases, dedupe window and concurrency of the message pipeline. */
  pipeline?: PipelineSettings;
  /** Bearer token for /api (also RAPIDSMS_API_TOKEN); without one, /api answers only loopback clients. */
  apiToken?: string | null;
  /** `false` turns /api off (the backends' endpoints stay): how to serve a network without a token. */
  api?: boolean;
  /**
   * The base URL the outside world reaches this server at (`https://sms.example.org`), when a
   * reverse proxy or tunnel stands in front of it: callbacks are built from it, signatures checked
   * against it, and pages served under its name may use the tester.
   */
  publicUrl?: string | null;
  /** Host names besides loopback's (and `publicUrl`'s) that browsers may use without a token. */
  allowedHosts?: readonly string[];
  /** Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the real client. */
  trustedProxies?: readonly string[];
  /**
   * The message tester web page at /tester/: `true`, or `{ backend }` to name the httptester
   * backend it plays. Off by default, except on the embedded default config.
   */
  tester?: boolean | { backend?: string };
  /** `GET /metrics` for Prometheus, with the same access rule as /api; default on. */
  metrics?: boolean;
  /** STOP and START keywords and the opt-outs they record; on by default, `false` turns it off (see docs/operations.md). */
  optOut?: z.input<typeof optOutSchema> | true;
  /** How forwards to other apps (the `webhook` app, `eventUrl`) are signed and retried. */
  webhooks?: z.input<typeof webhooksSchema>;
  /** `{ days: N }` purges finished messages older than N days; default: keep everything. */
  retention?: z.input<typeof retentionSchema>;
}

/** Types a `rapidsms.config.ts`: `export default defineConfig({ … })`. */
export function defineConfig(config: RapidSmsConfig): RapidSmsConfig {
  return config;
}

/** A URL of the server tied to one backend's view (see `urls`). */
export interface UrlPattern {
  backend: string;
  /** The view's path under `/backend/<name>/`: `""` (the default) for inbound messages, `"status/"` for Kannel's reports, … */
  view?: string;
}

/** The configuration of a running system, validated and with defaults applied. */
export interface ResolvedConfig {
  backends: Record<string, { engine: BackendClass; options: object }>;
  urls: Record<string, Required<UrlPattern>>;
  apps: AppClass[];
  appSettings: Record<string, unknown>;
  database: string;
  tablePrefix: string;
  databaseSchema: string | null;
  queue: string | null;
  port: number;
  host: string;
  projectName: string;
  defaultResponse: string | null;
  language: string;
  translations: Record<string, Record<string, string>>;
  logLevel: string;
  pipeline: PipelineOptions;
  apiToken: string | null;
  api: boolean;
  publicUrl: string | null;
  allowedHosts: string[];
  trustedProxies: string[];
  /** The httptester backend the tester page plays, or null when the page is off. */
  tester: { backend: string } | null;
  metrics: boolean;
  /** Null when opt-outs are off. */
  optOut: OptOutSettings | null;
  webhooks: WebhookSettings;
  retention: RetentionSettings | null;
  /** Where relative paths are resolved from: the config file's folder, or the working directory. */
  baseDir: string;
  /** The config file read, or `null` for the embedded default. */
  source: string | null;
}

/** What `npm start` runs without a config file: the message tester with echo, ping and default. */
export const EMBEDDED_DEFAULT_CONFIG: RapidSmsConfig = {
  installedBackends: { httptester: { engine: "httptester" } },
  apps: ["echo", "ping", "default"],
  database: "sqlite:./rapidsms.db",
};
