import module, { createRequire } from "node:module";

/**
 * Loads a module of this package synchronously when a caller first needs it, so that a process
 * that never does (SQLite without PostgreSQL, apps without tables of their own) never loads it nor
 * what it imports: a faster start and less memory. Node (≥ 22.12) requires an ES module into the
 * same module map as `import`, so there is still one instance of it; its graph must not use
 * top-level await. `path` has no extension: .ts in a checkout, .js as built into dist/.
 */
export function loadNow<T>(from: string, path: string): T {
  return createRequire(from)(`${path}${from.endsWith(".ts") ? ".ts" : ".js"}`) as T;
}

/** `loadNow`, once: the module when the returned function is first called, the same module after. */
export function loadLater<T>(from: string, path: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= loadNow<T>(from, path));
}

/**
 * Writes what V8 compiled so far to Node's compile cache (when the CLI turned it on), `afterMs`
 * from now. Node writes it only when a thread ends cleanly: a server that was killed (kill -9,
 * the OOM killer, a supervisor's timeout) would otherwise start cold every time, twice as slowly
 * from a checkout's TypeScript. Unchanged entries are not written again (some 0.3 ms).
 */
export function keepCompiledCode(afterMs = 1_000): void {
  setTimeout(() => module.flushCompileCache?.(), afterMs).unref();
}
