/** `sendsms_url`, `SENDSMS_URL` and `sendsmsUrl` all become `sendsmsUrl`; dotted keys are kept. */
export function camelCaseKey(key: string): string {
  if (key.includes(".") || !/[_A-Z]/.test(key)) return key;
  const lower = /[a-z]/.test(key) && !key.includes("_") ? key : key.toLowerCase();
  return lower.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function camelCaseKeys(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [camelCaseKey(key), v]));
}
