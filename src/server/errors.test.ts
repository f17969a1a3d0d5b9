import assert from "node:assert/strict";
import { test } from "node:test";
import Fastify from "fastify";
import { jsonErrors } from "./errors.ts";

/** An app whose one route fails with `error`, answered by the API's error handler. */
async function failingWith(error: Error) {
  const app = Fastify();
  app.setErrorHandler(jsonErrors);
  app.get("/", async () => {
    throw error;
  });
  const response = await app.inject({ url: "/" });
  await app.close();
  return response;
}

const withCode = (message: string, fields: object) => Object.assign(new Error(message), fields);

test("a write that lost a race (a unique or foreign-key violation) is a 409 that says to retry, on both databases", async () => {
  for (const error of [
    withCode("duplicate key value violates unique constraint", { code: "23505" }),
    withCode("insert or update violates foreign key constraint", { code: "23503" }),
    withCode("UNIQUE constraint failed: contact_groups.name", { code: "ERR_SQLITE_ERROR", errcode: 2067 }),
    withCode("FOREIGN KEY constraint failed", { code: "ERR_SQLITE_ERROR", errcode: 787 }),
  ]) {
    const response = await failingWith(error);
    assert.equal(response.statusCode, 409, error.message);
    assert.match(response.json().error, /^conflict: .*retry$/);
  }
});

test("a NOT NULL or CHECK failure is a bug: a 500 that gives nothing away", async () => {
  const response = await failingWith(withCode("NOT NULL constraint failed: contacts.name", { code: "ERR_SQLITE_ERROR", errcode: 1299 }));
  assert.equal(response.statusCode, 500);
  assert.doesNotMatch(response.body, /contacts/);
});
