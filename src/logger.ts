import { pino, type Logger } from "pino";
import type { ResolvedConfig } from "./config/config.ts";
import { secretRedactor, secretValues, urlPasswords } from "./security/secrets.ts";

export const silentLogger: Logger = pino({ level: "silent" });

/**
 * JSON logs on stdout. Every configured secret (see `configSecrets`) is cut out of every line as
 * it is written, whatever logged it: an error message, a URL, a gateway's answer.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? "info", secrets: Iterable<string> = [], destination?: pino.DestinationStream): Logger {
  const redact = secretRedactor(secrets);
  return pino({ level, base: undefined, hooks: { streamWrite: redact } }, destination);
}

/**
 * Every secret value a configuration holds: the API token, each backend's secret options, passwords
 * in URLs, the webhook secret, and the credentials and query values of the webhook app's URL
 * (where receivers put their tokens).
 */
export function configSecrets(
  config: Pick<ResolvedConfig, "apiToken" | "backends" | "database" | "queue"> & Partial<Pick<ResolvedConfig, "webhooks" | "appSettings">>,
): string[] {
  const secrets: string[] = [];
  if (config.apiToken) secrets.push(config.apiToken);
  for (const { engine, options } of Object.values(config.backends)) {
    for (const key of engine.secretOptions) secrets.push(...secretValues((options as Record<string, unknown>)[key]));
    secrets.push(...urlPasswords(JSON.stringify(options, (_key, value) => (typeof value === "function" ? undefined : value)) ?? ""));
  }
  for (const url of [config.database, config.queue]) if (url) secrets.push(...urlPasswords(url));
  if (config.webhooks?.secret) secrets.push(config.webhooks.secret);
  const webhookUrl = (config.appSettings?.webhook as { url?: unknown } | undefined)?.url;
  if (typeof webhookUrl === "string") secrets.push(...urlSecrets(webhookUrl));
  return secrets;
}

/** The password (or a user without one, a token) and the query values of a URL. */
function urlSecrets(raw: string): string[] {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [];
  }
  const secrets = [...url.searchParams.values()];
  if (url.password) secrets.push(decodeURIComponent(url.password));
  else if (url.username) secrets.push(decodeURIComponent(url.username));
  return secrets;
}
