/**
 * Parse options for a schema parsed once per process: the config, the defaults, an app's settings.
 * On its first parse zod compiles an object schema's fast path with `new Function`, which pays off
 * for a schema parsed on every request (a gateway's form) and is only start-up time for these:
 * 2 ms of each start's config.
 */
export const PARSED_ONCE = { jitless: true } as const;
