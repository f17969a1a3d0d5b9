import { redactUrlCredentials } from "../security/secrets.ts";

/**
 * A copy of backend options fit to show: every secret option's value (or each value of a secret
 * map) as `***`, and the password of any URL (`https://user:pass@host`) as well.
 */
export function redactOptions(options: object, secretOptions: readonly string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!secretOptions.includes(key)) {
      result[key] = typeof value === "function" ? `[${value.name}]` : withoutUrlCredentials(value);
    } else if (value !== null && typeof value === "object") {
      result[key] = Object.fromEntries(Object.keys(value).map((k) => [k, "***"]));
    } else {
      result[key] = "***";
    }
  }
  return result;
}

function withoutUrlCredentials(value: unknown): unknown {
  if (typeof value === "string") return redactUrlCredentials(value);
  if (value === null || typeof value !== "object") return value;
  return JSON.parse(redactUrlCredentials(JSON.stringify(value)));
}
