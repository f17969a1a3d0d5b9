import type { FastifyServerOptions } from "fastify";

type SchemaController = NonNullable<FastifyServerOptions["schemaController"]>;
type Compilers = NonNullable<SchemaController["compilersFactory"]>;

const refuse = (what: string) => () => {
  throw new Error(`a route declared a JSON Schema ${what}: RapidSMS's routes validate their input with zod (see api-parse.ts) and serialise their own answers`);
};

/**
 * Fastify's schema compilers, for RapidSMS's own Fastify instances. No route of theirs declares a
 * JSON Schema, so Fastify's defaults (Ajv and fast-json-stringify, about 100 modules and 40 ms of a
 * start) are never loaded; a route that declared one would fail when it is added, saying why.
 */
export const zodOnlySchemas: SchemaController = {
  compilersFactory: {
    buildValidator: refuse("for its input") as unknown as Compilers["buildValidator"],
    buildSerializer: refuse("for its answer") as unknown as Compilers["buildSerializer"],
  },
};
