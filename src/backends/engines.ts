import { ConfigError } from "../errors.ts";
import type { BackendClass } from "./backend.ts";

/** The backend class of an engine name or RapidSMS dotted path among `engines`; throws ConfigError if none matches. */
export function findEngine(name: string, engines: readonly BackendClass[]): BackendClass {
  const found = engines.find((engine) => engine.engine === name) ?? engines.find((engine) => engine.aliases.includes(name));
  if (!found) throw new ConfigError(`unknown engine "${name}": installed engines are ${engineNames(engines).join(", ")}`);
  return found;
}

export function engineNames(engines: readonly BackendClass[]): string[] {
  return engines.map((engine) => engine.engine).sort();
}
