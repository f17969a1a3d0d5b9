import type { BackendBase, BackendClass } from "./backend.ts";
import type { BackendPort } from "./port.ts";

/**
 * Builds a backend the one way the framework does: options already validated by its schema, the
 * constructor, then `configure` (after the subclass's field initialisers, so what it sets stays).
 */
export function buildBackend(engine: BackendClass, port: BackendPort, options: object): BackendBase<object> {
  const backend = new engine(port, options);
  backend.configure(options);
  return backend;
}
