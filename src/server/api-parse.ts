import type { FastifyReply } from "fastify";
import type { z } from "zod";

/** The input as `schema` reads it, or undefined after answering 400 with every issue and its path. */
export function parse<T>(schema: z.ZodType<T>, input: unknown, reply: FastifyReply): T | undefined {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
  reply.code(400).send({ error: `invalid request: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`, issues });
  return undefined;
}
