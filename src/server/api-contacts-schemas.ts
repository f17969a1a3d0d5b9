import { z } from "zod";
import { LANGUAGE_TAG } from "../apps/translations.ts";
import { LIMITS } from "../messages/limits.ts";
import { MAX_ID, storable } from "./api-schemas.ts";

/** The bounds of what a contact or group may hold through the API. */
export const CONTACT_LIMITS = {
  name: 100,
  /** Characters of the custom fields as JSON. */
  fieldsJson: 16_384,
  connections: 20,
  groups: 100,
  /** Contact ids added or removed by one request. */
  members: 1_000,
  pageSize: 500,
} as const;

const text = (max: number) => storable(z.string().max(max));

const language = z
  .string()
  .max(35)
  .refine((tag) => tag === "" || LANGUAGE_TAG.test(tag), 'expected a language tag such as en, sw or pt-BR, or "" for the default')
  .describe('A language tag (BCP 47), or "" for the configured default language.');

/** Values nested deeper than this are refused before anything walks them recursively. */
const MAX_DEPTH = 32;

/** Whether `value` nests at most MAX_DEPTH deep, walked without recursion. */
function shallow(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [next, depth] = stack.pop()!;
    if (next === null || typeof next !== "object") continue;
    if (depth >= MAX_DEPTH) return false;
    for (const child of Object.values(next)) stack.push([child, depth + 1]);
  }
  return true;
}

const fields = z
  .unknown()
  .refine(shallow, { message: `nested at most ${MAX_DEPTH} deep`, abort: true })
  .pipe(z.record(z.string().max(100), z.json()))
  .refine((value) => JSON.stringify(value).length <= CONTACT_LIMITS.fieldsJson, `at most ${CONTACT_LIMITS.fieldsJson} characters as JSON`)
  .describe("Fields of your service's own, any JSON values.");

const connectionRef = z.object({ backend: z.string().min(1), identity: text(LIMITS.identity).trim().min(1) }).strict();

const rowId = () => z.number().int().positive().max(MAX_ID);
const id = z.coerce.number().int().positive().max(MAX_ID);

export const contactBody = z
  .object({
    name: text(CONTACT_LIMITS.name).optional(),
    language: language.optional(),
    fields: fields.optional(),
    connections: z
      .array(connectionRef)
      .max(CONTACT_LIMITS.connections)
      .optional()
      .describe("Where the contact texts from; each is taken from any other contact."),
    groups: z.array(rowId()).max(CONTACT_LIMITS.groups).optional().describe("Ids of the contact's groups."),
  })
  .strict();

export const groupBody = z.object({ name: text(CONTACT_LIMITS.name).trim().min(1), description: text(1_000).optional() }).strict();
export const groupChange = groupBody.partial().strict();

export const membersBody = z
  .object({
    add: z.array(rowId()).max(CONTACT_LIMITS.members).optional(),
    remove: z.array(rowId()).max(CONTACT_LIMITS.members).optional(),
  })
  .strict()
  .refine((body) => body.add !== undefined || body.remove !== undefined, "give `add`, `remove`, or both: lists of contact ids");

export const pageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(CONTACT_LIMITS.pageSize).default(50),
    after: id.optional().describe("The `next` of the previous page."),
  })
  .strict();

export const contactsQuery = pageQuery.extend({ group: id.optional().describe("Only the members of this group.") }).strict();

export const idParams = z.object({ id }).strict();

export const contact = z.object({
  id: z.number().int(),
  name: z.string(),
  language: z.string(),
  fields: z.record(z.string(), z.unknown()),
  connections: z.array(z.object({ backend: z.string(), identity: z.string() })),
  groups: z.array(z.object({ id: z.number().int(), name: z.string() })),
  createdOn: z.string(),
  modifiedOn: z.string(),
});

export const group = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string(),
  members: z.number().int(),
  createdOn: z.string(),
  modifiedOn: z.string(),
});

export const contactPage = z.object({ contacts: z.array(contact), total: z.number().int(), next: z.number().int().nullable() });
export const groupPage = z.object({ groups: z.array(group), total: z.number().int(), next: z.number().int().nullable() });
