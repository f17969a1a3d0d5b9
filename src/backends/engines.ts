import { ConfigError } from "../errors.ts";
import type { BackendClass } from "./backend.ts";

/** What engines are found by: a backend class, or the registry's entry for one. */
type Named = Pick<BackendClass, "engine"> & { readonly aliases?: readonly string[] };

/** The backend class (or registry entry) of an engine name or RapidSMS dotted path among `engines`; throws ConfigError if none matches. */
export function findEngine<T extends Named = BackendClass>(name: string, engines: readonly T[]): T {
  const found = engines.find((engine) => engine.engine === name) ?? engines.find((engine) => engine.aliases?.includes(name));
  if (!found) throw new ConfigError(`unknown engine "${name}": installed engines are ${engineNames(engines).join(", ")}`);
  return found;
}

export function engineNames(engines: readonly Named[]): string[] {
  return engines.map((engine) => engine.engine).sort();
}
