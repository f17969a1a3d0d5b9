import { z } from "zod";
import { acceptedMessage, apiError, listMessagesQuery, messageDetail, messagePage, sendMessageBody } from "./api-schemas.ts";

const json = (schema: z.ZodType) => ({ "application/json": { schema: z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }) } });
const error = (description: string) => ({ description, content: json(apiError) });

/** The OpenAPI 3.1 description of /api, built from the same zod schemas that validate requests. */
export function openApiDocument(): Record<string, unknown> {
  const query = z.toJSONSchema(listMessagesQuery, { io: "input" }) as { properties: Record<string, object> };
  return {
    openapi: "3.1.0",
    info: { title: "RapidSMS.ts API", version: "1" },
    components: {
      securitySchemes: { token: { type: "http", scheme: "bearer", description: "RAPIDSMS_API_TOKEN; without one, only loopback clients are served" } },
    },
    security: [{ token: [] }],
    paths: {
      "/api/messages": {
        post: {
          summary: "Queue a message for sending",
          requestBody: { required: true, content: { "application/json": { schema: z.toJSONSchema(sendMessageBody, { io: "input" }) } } },
          responses: {
            "202": { description: "Queued; follow its status at /api/messages/{id}", content: json(acceptedMessage) },
            "400": error("Invalid body, or a backend that is not installed"),
            "401": error("Missing or wrong API token"),
          },
        },
        get: {
          summary: "List messages, newest first",
          parameters: Object.entries(query.properties).map(([name, schema]) => ({ name, in: "query", required: false, schema })),
          responses: { "200": { description: "A page of messages", content: json(messagePage) }, "400": error("Invalid query") },
        },
      },
      "/api/messages/{id}": {
        get: {
          summary: "A message with its transmissions, attempts and delivery reports",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
          responses: { "200": { description: "The message", content: json(messageDetail) }, "404": error("No such message") },
        },
      },
    },
  };
}
