import { isIP } from "node:net";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { AppBase, appName, appSettings, type AppClass } from "../apps/app.ts";
import { builtinApps } from "../apps/builtin.ts";
import { LANGUAGE_TAG } from "../apps/translations.ts";
import { BackendBase, type BackendClass } from "../backends/backend.ts";
import { findEngine } from "../backends/engines.ts";
import { shippedEngineLoaders } from "../backends/registry.ts";
import { ConfigError } from "../errors.ts";
import { isLoopbackHost } from "../security/addresses.ts";
import { redactUrlCredentials } from "../security/secrets.ts";
import { pipelineOptionsSchema } from "../pipeline/policy.ts";
import { optOutSchema, retentionSchema, webhooksSchema } from "./operations.ts";
import { SQL_NAME } from "../store/naming.ts";
import type { BackendSettings, RapidSmsConfig, ResolvedConfig } from "./config.ts";
import { camelCaseKey, camelCaseKeys } from "./keys.ts";
import { PARSED_ONCE } from "../parse-once.ts";

const BACKEND_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const topLevelSchema = z
  .object({
    installedBackends: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    urls: z
      .record(
        z.string().regex(/^\/[^?#\s]*$/, "expected a path that starts with /, such as /sms/incoming/"),
        z.object({ backend: z.string().min(1), view: z.string().default("") }).strict(),
      )
      .default({}),
    apps: z.array(z.union([z.string(), z.custom<AppClass>((v) => typeof v === "function", "expected an app class")])).default([]),
    appSettings: z.record(z.string(), z.unknown()).default({}),
    database: z.string().min(1).default("sqlite:./rapidsms.db"),
    tablePrefix: z.string().max(30).regex(SQL_NAME, "expected letters, digits and underscores, such as rapidsms_").or(z.literal("")).default(""),
    databaseSchema: z.string().max(63).regex(SQL_NAME, "expected a schema name of letters, digits and underscores, such as rapidsms").nullable().default(null),
    queue: z
      .string()
      .regex(/^rediss?:\/\//, "expected a redis:// URL")
      .nullable()
      .default(null),
    port: z.coerce.number().int().min(0).max(65535).default(8000),
    host: z.string().min(1).default("127.0.0.1"),
    projectName: z.string().default("RapidSMS"),
    defaultResponse: z.string().nullable().default("Sorry, %(project_name)s could not understand your message."),
    language: z.string().regex(LANGUAGE_TAG, "expected a language tag such as en, sw or pt-BR").default("en"),
    translations: z.record(z.string().regex(LANGUAGE_TAG, "expected a language tag such as en, sw or pt-BR"), z.record(z.string(), z.string())).default({}),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    pipeline: z.preprocess(camelCaseKeys, pipelineOptionsSchema).prefault({}),
    apiToken: z.string().min(16, "an API token needs at least 16 characters").nullable().default(null),
    api: z.boolean().default(true),
    publicUrl: z
      .url({ protocol: /^https?$/, error: "expected the http(s) base URL this server is reached at, such as https://sms.example.org" })
      .nullable()
      .default(null),
    allowedHosts: z
      .array(
        z
          .string()
          .min(1)
          .regex(/^[^\s/:]+$|^\[[0-9a-fA-F:.]+\]$/, "expected a host name without scheme or port"),
      )
      .default([]),
    trustedProxies: z.array(z.string().refine(isAddressOrRange, "expected an IP address or a CIDR range such as 10.0.0.0/8")).default([]),
    tester: z.union([z.boolean(), z.object({ backend: z.string().min(1).optional() }).strict()]).optional(),
    metrics: z.boolean().default(true),
    optOut: z.preprocess((v) => (v === true ? {} : v), optOutSchema).prefault({}),
    webhooks: webhooksSchema.prefault({}),
    retention: retentionSchema.default(null),
  })
  .strict();

/** RapidSMS setting names accepted as synonyms. */
const TOP_LEVEL_ALIASES: Record<string, string> = { installedApps: "apps", databaseUrl: "database" };
const APP_ALIASES: Record<string, string> = { "rapidsms.contrib.default": "default" };

export interface ResolveOptions {
  baseDir?: string;
  source?: string | null;
  /** The engines `engine` names may pick from (default: the shipped ones). A backend class given as `engine` needs no entry here. */
  engines?: readonly BackendClass[];
  /** Values that win over the file (command-line flags, environment). */
  overrides?: Partial<Pick<RapidSmsConfig, "port" | "host" | "database" | "queue" | "logLevel" | "apiToken" | "publicUrl">> & { webhookSecret?: string };
}

/** Validates a config object and resolves engines and apps; throws ConfigError with one clear line. */
export async function resolveConfig(config: RapidSmsConfig, options: ResolveOptions = {}): Promise<ResolvedConfig> {
  const baseDir = options.baseDir ?? process.cwd();
  const where = options.source ?? "the configuration";
  const normalised: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    const name = camelCaseKey(key);
    normalised[TOP_LEVEL_ALIASES[name] ?? name] = value;
  }
  const { webhookSecret, ...overrides } = options.overrides ?? {};
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) normalised[key] = value;
  }
  if (webhookSecret) normalised.webhooks = { ...(normalised.webhooks as object | undefined), secret: webhookSecret };
  const parsed = topLevelSchema.safeParse(normalised, PARSED_ONCE);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue.code === "unrecognized_keys" && issue.path.length === 0) {
      throw new ConfigError(`${where}: ${unknownKeys(issue.keys, [])} (known keys: ${optionNames(topLevelSchema).join(", ")})`);
    }
    throw new ConfigError(`${where}: ${issue.path.join(".") || "(top level)"}: ${issue.message}`);
  }
  const top = parsed.data;
  const backends: ResolvedConfig["backends"] = {};
  for (const [name, settings] of Object.entries(top.installedBackends)) {
    backends[name] = await resolveBackend(name, settings as BackendSettings, options.engines);
  }
  for (const [path, { backend }] of Object.entries(top.urls)) {
    if (!backends[backend])
      throw new ConfigError(`urls: "${path}" names backend "${backend}", which is not installed; installed: ${Object.keys(backends).join(", ") || "none"}`);
  }
  const apps: AppClass[] = [];
  for (const app of top.apps) apps.push(await resolveApp(app, baseDir));
  checkAppSettings(apps, top.appSettings);
  const tester = resolveTester(top.tester ?? options.source === null, backends);
  refuseOpenAccess({ ...top, tester: tester !== null });
  return {
    backends,
    urls: top.urls,
    apps,
    appSettings: top.appSettings,
    tester,
    database: top.database,
    tablePrefix: top.tablePrefix,
    databaseSchema: top.databaseSchema,
    queue: top.queue,
    port: top.port,
    host: top.host,
    projectName: top.projectName,
    defaultResponse: top.defaultResponse,
    language: top.language,
    translations: top.translations,
    logLevel: top.logLevel,
    pipeline: top.pipeline,
    apiToken: top.apiToken,
    api: top.api,
    publicUrl: top.publicUrl,
    allowedHosts: top.allowedHosts,
    trustedProxies: top.trustedProxies,
    metrics: top.metrics,
    optOut: top.optOut === false ? null : top.optOut,
    webhooks: top.webhooks,
    retention: top.retention,
    baseDir,
    source: options.source ?? null,
  };
}

/** Every app's settings fit its schema, and each name in appSettings is an installed app's. */
function checkAppSettings(apps: readonly AppClass[], given: Record<string, unknown>): void {
  for (const name of Object.keys(given)) {
    if (!apps.some((App) => appName(App) === name))
      throw new ConfigError(`appSettings: no installed app is named "${name}"; installed: ${apps.map(appName).join(", ") || "none"}`);
  }
  for (const App of apps) appSettings(App, given[appName(App)]);
}

async function resolveBackend(
  name: string,
  settings: BackendSettings,
  engines: readonly BackendClass[] | undefined,
): Promise<{ engine: BackendClass; options: object }> {
  if (!BACKEND_NAME.test(name)) {
    throw new ConfigError(`backend "${name}": a backend name is used in URLs (/backend/<name>/): use letters, digits, "-", "_" or ".", at most 64 characters`);
  }
  const { engine: engineName, ENGINE, ...rest } = settings;
  const engineRef = engineName ?? ENGINE;
  if (engineRef === undefined) {
    throw new ConfigError(`backend "${name}": missing "engine": give an engine name such as "http", "httptester" or "database"`);
  }
  let engine: BackendClass;
  if (typeof engineRef === "function") {
    if (!(engineRef.prototype instanceof BackendBase)) {
      throw new ConfigError(`backend "${name}": "engine" is a function but not a BackendBase subclass`);
    }
    engine = engineRef;
  } else {
    try {
      engine = engines ? findEngine(String(engineRef), engines) : await findEngine(String(engineRef), shippedEngineLoaders).load();
    } catch (error) {
      throw new ConfigError(`backend "${name}": ${(error as Error).message}`);
    }
  }
  const options = camelCaseKeys(rest) as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    // RapidSMS router settings such as "router.celery.eager" mean nothing here.
    if (key.includes(".")) delete options[key];
  }
  const parsed = engine.optionsSchema.safeParse(options, PARSED_ONCE);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.join(".");
    const secret = engine.secretOptions.includes(String(issue.path[0]));
    const given = issue.path.length > 0 && !secret ? describeValue(valueAt(options, issue.path)) : undefined;
    const known = issue.path.length === 0 ? optionNames(engine.optionsSchema) : [];
    const what =
      issue.code === "unrecognized_keys"
        ? `${unknownKeys(issue.keys, issue.path, "option")}${issue.path.length > 0 ? "" : known.length > 0 ? ` (engine ${engine.engine} takes ${known.join(", ")})` : ` (engine ${engine.engine} takes no options)`}`
        : `option "${key}": ${issue.message}${given !== undefined && !issue.message.includes("received") ? `, got ${given}` : ""}`;
    throw new ConfigError(`backend "${name}" (engine ${engine.engine}): ${what}`);
  }
  return { engine, options: parsed.data };
}

/**
 * Without a token, /api and the tester answer loopback clients only. That protects nothing when
 * the server listens on the network, or stands behind a proxy (publicUrl) that makes every
 * client look local: refuse to start that way.
 */
function refuseOpenAccess(settings: {
  apiToken: string | null;
  api: boolean;
  tester: boolean;
  host: string;
  publicUrl: string | null;
  trustedProxies: string[];
}): void {
  if (settings.apiToken !== null || (!settings.api && !settings.tester)) return;
  const open = settings.api && settings.tester ? "/api and the message tester" : settings.api ? "/api" : "the message tester";
  const off = [settings.api && '"api": false', settings.tester && '"tester": false'].filter(Boolean).join(" and ");
  const fix = `set apiToken (or RAPIDSMS_API_TOKEN), or turn ${settings.api && settings.tester ? "them" : "it"} off with ${off}`;
  if (!isLoopbackHost(settings.host)) {
    throw new ConfigError(`host "${settings.host}" is reachable from the network and no apiToken is set, so ${open} would be open to anyone: ${fix}`);
  }
  if (settings.publicUrl !== null && settings.trustedProxies.length === 0) {
    throw new ConfigError(
      `publicUrl is set (a proxy or tunnel forwards to this server, and its clients look local) and no apiToken is set, so ${open} would be open to anyone: ${fix}, or list the proxy in trustedProxies`,
    );
  }
}

function isAddressOrRange(value: string): boolean {
  const [address, bits, ...rest] = value.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

function resolveTester(setting: boolean | { backend?: string }, backends: ResolvedConfig["backends"]): ResolvedConfig["tester"] {
  if (setting === false) return null;
  const wanted = typeof setting === "object" ? setting.backend : undefined;
  const testers = Object.keys(backends).filter((name) => backends[name].engine.providesTester);
  const backend = wanted ?? testers[0];
  if (backend === undefined || !testers.includes(backend)) {
    throw new ConfigError(
      wanted
        ? `tester: "${wanted}" is not an installed backend that plays the message tester (engine httptester); those installed: ${testers.join(", ") || "none"}`
        : `tester: the message tester needs a backend of engine httptester: add "httptester": { "engine": "httptester" } to installedBackends`,
    );
  }
  return { backend };
}

async function resolveApp(app: string | AppClass, baseDir: string): Promise<AppClass> {
  if (typeof app === "function") {
    if (!(app.prototype instanceof AppBase)) throw new ConfigError(`app ${app.name}: not an AppBase subclass`);
    return app;
  }
  const name = APP_ALIASES[app] ?? app;
  const builtin = builtinApps[name];
  if (builtin) return builtin;
  if (!name.startsWith(".") && !isAbsolute(name)) {
    throw new ConfigError(
      `app "${app}": not a built-in app (${Object.keys(builtinApps).join(", ")}); give a module path such as "./apps/survey.ts" for your own`,
    );
  }
  const path = resolve(baseDir, name);
  let module: Record<string, unknown>;
  try {
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new ConfigError(`app "${app}": cannot load ${path}: ${(error as Error).message}`, { cause: error });
  }
  const candidates = [module.default, ...Object.values(module)].filter((v): v is AppClass => typeof v === "function" && v.prototype instanceof AppBase);
  const unique = [...new Set(candidates)];
  if (unique.length === 0) throw new ConfigError(`app "${app}": ${path} exports no AppBase subclass`);
  if (unique.length > 1 && !module.default) {
    throw new ConfigError(`app "${app}": ${path} exports several apps; export the one to install as default`);
  }
  return (module.default as AppClass | undefined) ?? unique[0];
}

function unknownKeys(keys: readonly string[], path: readonly PropertyKey[], noun = "key"): string {
  return `unknown ${noun}${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${[...path, k].join(".")}"`).join(", ")}`;
}

/** The keys an object schema accepts; empty when the schema is not a plain object schema. */
function optionNames(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[key] : undefined), value);
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "function") return "a function";
  const text = redactUrlCredentials(JSON.stringify(value));
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
