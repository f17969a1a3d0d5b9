import { ConfigError } from "../errors.ts";
import type { BackendClass } from "./backend.ts";

const engines = new Map<string, BackendClass>();
const aliases = new Map<string, BackendClass>();

/** Makes a backend class available by its `engine` name and its RapidSMS dotted-path aliases. */
export function registerEngine(backend: BackendClass): void {
  if (!backend.engine) throw new ConfigError(`backend class ${backend.name} has no static engine name`);
  engines.set(backend.engine, backend);
  for (const alias of backend.aliases) aliases.set(alias, backend);
}

export function findEngine(engine: string): BackendClass {
  const found = engines.get(engine) ?? aliases.get(engine);
  if (!found) {
    throw new ConfigError(`unknown engine "${engine}": installed engines are ${engineNames().join(", ")}`);
  }
  return found;
}

export function engineNames(): string[] {
  return [...engines.keys()].sort();
}
