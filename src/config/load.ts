import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../errors.ts";
import { EMBEDDED_DEFAULT_CONFIG, type RapidSmsConfig, type ResolvedConfig } from "./config.ts";
import { resolveConfig, type ResolveOptions } from "./resolve.ts";

const CONFIG_FILES = ["rapidsms.config.ts", "rapidsms.config.js", "rapidsms.config.mjs", "rapidsms.config.json"];

export interface LoadOptions {
  /** `--config PATH`; else `RAPIDSMS_CONFIG`; else the first rapidsms.config.* in `cwd`; else the embedded default. */
  configPath?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: ResolveOptions["overrides"];
}

/** Finds, reads and resolves the configuration; environment variables win over the file. */
export async function loadConfig(options: LoadOptions = {}): Promise<ResolvedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const path = findConfigFile(options.configPath ?? env.RAPIDSMS_CONFIG, cwd);
  const config = path ? await readConfigFile(path) : EMBEDDED_DEFAULT_CONFIG;
  const overrides = { ...environmentOverrides(env), ...stripUndefined(options.overrides ?? {}) };
  return resolveConfig(config, { baseDir: path ? dirname(path) : cwd, source: path, overrides });
}

/**
 * What the environment sets over a config file: PORT, HOST, RAPIDSMS_DATABASE (or DATABASE_URL),
 * REDIS_URL, LOG_LEVEL, RAPIDSMS_API_TOKEN, RAPIDSMS_PUBLIC_URL, RAPIDSMS_WEBHOOK_SECRET.
 */
export function environmentOverrides(env: NodeJS.ProcessEnv): NonNullable<ResolveOptions["overrides"]> {
  return stripUndefined({
    port: env.PORT ? Number(env.PORT) : undefined,
    host: env.HOST || undefined,
    database: env.RAPIDSMS_DATABASE || env.DATABASE_URL || undefined,
    queue: env.REDIS_URL || undefined,
    logLevel: (env.LOG_LEVEL || undefined) as RapidSmsConfig["logLevel"],
    apiToken: env.RAPIDSMS_API_TOKEN || undefined,
    publicUrl: env.RAPIDSMS_PUBLIC_URL || undefined,
    webhookSecret: env.RAPIDSMS_WEBHOOK_SECRET || undefined,
  });
}

function findConfigFile(explicit: string | undefined, cwd: string): string | null {
  if (explicit) {
    const path = resolve(cwd, explicit);
    if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist: check --config or RAPIDSMS_CONFIG`);
    return path;
  }
  for (const name of CONFIG_FILES) {
    const path = resolve(cwd, name);
    if (existsSync(path)) return path;
  }
  return null;
}

async function readConfigFile(path: string): Promise<RapidSmsConfig> {
  if (path.endsWith(".json")) {
    try {
      return JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
    }
  }
  let module: { default?: RapidSmsConfig };
  try {
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new ConfigError(`config file ${path} failed to load: ${(error as Error).message}`, { cause: error });
  }
  if (!module.default || typeof module.default !== "object") {
    throw new ConfigError(`config file ${path} must export the config as default: export default defineConfig({ … })`);
  }
  return module.default;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
