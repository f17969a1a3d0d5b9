import { z } from "zod";
import { contact, contactBody, contactPage, contactsQuery, group, groupBody, groupChange, groupPage, membersBody, pageQuery } from "./api-contacts-schemas.ts";
import { notOptedOut, optOut, optOutBody, optOutPage, optOutsQuery } from "./api-opt-outs-schemas.ts";
import { webhookDocument } from "./webhook-schemas.ts";
import {
  acceptedMessage,
  apiError,
  cancelledMessage,
  exportMessagesQuery,
  listMessagesQuery,
  messageDetail,
  messageDetailQuery,
  messagePage,
  messageStats,
  sendMessageBody,
  statsQuery,
} from "./api-schemas.ts";

const json = (schema: z.ZodType) => ({ "application/json": { schema: z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }) } });
const error = (description: string) => ({ description, content: json(apiError) });
const body = (schema: z.ZodType) => ({ required: true, content: { "application/json": { schema: z.toJSONSchema(schema, { io: "input" }) } } });
const queryParameters = (schema: z.ZodType) =>
  Object.entries((z.toJSONSchema(schema, { io: "input" }) as { properties: Record<string, object> }).properties).map(([name, schema]) => ({
    name,
    in: "query",
    required: false,
    schema,
  }));
const byId = [{ name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } }];

/** /api/contacts and /api/groups. */
function contactPaths() {
  return {
    "/api/contacts": {
      get: {
        summary: "List contacts by id, in pages",
        parameters: queryParameters(contactsQuery),
        responses: { "200": { description: "A page of contacts", content: json(contactPage) }, "400": error("Invalid query") },
      },
      post: {
        summary: "Create a contact",
        requestBody: body(contactBody),
        responses: {
          "201": { description: "The contact", content: json(contact) },
          "400": error("Invalid body, or a connection on a backend that is not installed"),
        },
      },
    },
    "/api/contacts/{id}": {
      get: {
        summary: "A contact",
        parameters: byId,
        responses: { "200": { description: "The contact", content: json(contact) }, "404": error("No such contact") },
      },
      patch: {
        summary: "Change a contact; `connections` and `groups`, when given, replace its own",
        parameters: byId,
        requestBody: body(contactBody),
        responses: { "200": { description: "The contact", content: json(contact) }, "400": error("Invalid body"), "404": error("No such contact") },
      },
      delete: {
        summary: "Delete a contact; its connections stay",
        parameters: byId,
        responses: { "204": { description: "Deleted" }, "404": error("No such contact") },
      },
    },
    "/api/groups": {
      get: {
        summary: "List groups by id, in pages",
        parameters: queryParameters(pageQuery),
        responses: { "200": { description: "A page of groups", content: json(groupPage) }, "400": error("Invalid query") },
      },
      post: {
        summary: "Create a group",
        requestBody: body(groupBody),
        responses: { "201": { description: "The group", content: json(group) }, "400": error("Invalid body"), "409": error("A group of that name exists") },
      },
    },
    "/api/groups/{id}": {
      get: { summary: "A group", parameters: byId, responses: { "200": { description: "The group", content: json(group) }, "404": error("No such group") } },
      patch: {
        summary: "Rename a group or change its description",
        parameters: byId,
        requestBody: body(groupChange),
        responses: { "200": { description: "The group", content: json(group) }, "404": error("No such group"), "409": error("Another group has that name") },
      },
      delete: {
        summary: "Delete a group; its contacts stay",
        parameters: byId,
        responses: { "204": { description: "Deleted" }, "404": error("No such group") },
      },
    },
    "/api/groups/{id}/members": {
      get: {
        summary: "The group's members, in pages",
        parameters: [...byId, ...queryParameters(pageQuery)],
        responses: { "200": { description: "A page of contacts", content: json(contactPage) }, "404": error("No such group") },
      },
      post: {
        summary: "Add and remove members by contact id",
        parameters: byId,
        requestBody: body(membersBody),
        responses: { "200": { description: "The group", content: json(group) }, "400": error("Invalid body"), "404": error("No such group") },
      },
    },
  };
}

/** /api/opt-outs. */
function optOutPaths() {
  const byConnection = [
    { name: "backend", in: "path", required: true, schema: { type: "string" }, description: "An installed backend's name" },
    { name: "identity", in: "path", required: true, schema: { type: "string" }, description: "The phone number or address, URL-encoded (+ as %2B)" },
  ];
  const invalid = error("A backend that is not installed, or an identity it cannot send to");
  const notOut = { description: "Not opted out", content: json(notOptedOut) };
  return {
    "/api/opt-outs": {
      get: {
        summary: "List opt-outs, in pages",
        parameters: queryParameters(optOutsQuery),
        responses: {
          "200": { description: "A page of opt-outs", content: json(optOutPage) },
          "400": error("Invalid query, or a backend that is not installed"),
        },
      },
    },
    "/api/opt-outs/{backend}/{identity}": {
      get: {
        summary: "Whether an identity is opted out: since when and why",
        parameters: byConnection,
        responses: { "200": { description: "Opted out", content: json(optOut) }, "400": invalid, "404": notOut },
      },
      put: {
        summary: "Opt an identity out (source `api`): nothing more is sent to it",
        parameters: byConnection,
        requestBody: { ...body(optOutBody), required: false },
        responses: {
          "201": { description: "Opted out now", content: json(optOut) },
          "200": { description: "Opted out already: the first opt-out stands", content: json(optOut) },
          "400": invalid,
        },
      },
      delete: {
        summary: "Opt an identity back in",
        parameters: byConnection,
        responses: { "204": { description: "Opted back in" }, "400": invalid, "404": notOut },
      },
    },
  };
}

/** What the message log reads besides the list and the detail. */
function messageLogPaths() {
  return {
    "/api/messages/stats": {
      get: {
        summary: "Messages per hour by direction, and outbound outcomes per backend, over a window (24 hours by default, 7 days at most)",
        parameters: queryParameters(statsQuery),
        responses: { "200": { description: "The counts", content: json(messageStats) }, "400": error("Invalid window") },
      },
    },
    "/api/messages.csv": {
      get: {
        summary: "The search of GET /api/messages as CSV (UTF-8 with a byte order mark), one row per message and recipient, newest first",
        parameters: queryParameters(exportMessagesQuery),
        responses: { "200": { description: "CSV, RFC 4180", content: { "text/csv": { schema: { type: "string" } } } }, "400": error("Invalid query") },
      },
    },
  };
}

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
            "400": error("Invalid body, a backend that is not installed, or an eventUrl that cannot be used (no webhooks.secret, a host not allowed)"),
            "401": error("Missing or wrong API token"),
            "404": error("A `group` that does not exist"),
            "409": error("A `group` with no member to send to, or an app's outgoing phase cancelled the message"),
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
          summary: "A message with a page of its transmissions (recipients), each with its attempts and delivery reports",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }, ...queryParameters(messageDetailQuery)],
          responses: { "200": { description: "The message", content: json(messageDetail) }, "404": error("No such message") },
        },
        delete: {
          summary: "Cancel what is still queued of an outbound message (a scheduled send): each such transmission ends E with the error `cancelled`",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
          responses: {
            "200": { description: "Cancelled; the counts say what was left alone", content: json(cancelledMessage) },
            "404": error("No such message"),
            "409": error("Nothing left to cancel (all sent, being sent or failed), or an inbound message"),
          },
        },
      },
      ...messageLogPaths(),
      ...contactPaths(),
      ...optOutPaths(),
    },
    webhooks: webhookDocument(),
  };
}
