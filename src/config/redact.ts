/** A copy of backend options with every secret option's value (or each value of a secret map) as `***`. */
export function redactOptions(options: object, secretOptions: readonly string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!secretOptions.includes(key)) {
      result[key] = typeof value === "function" ? `[${value.name}]` : value;
    } else if (value !== null && typeof value === "object") {
      result[key] = Object.fromEntries(Object.keys(value).map((k) => [k, "***"]));
    } else {
      result[key] = "***";
    }
  }
  return result;
}
