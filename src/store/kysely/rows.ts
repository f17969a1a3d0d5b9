import type { ExpressionBuilder, Kysely, Selectable, Transaction } from "kysely";
import type { BackendContext, Fields } from "../../messages/messages.ts";
import { deriveMessageStatus, type Direction, type Status } from "../../messages/status.ts";
import type { HotQueries } from "../hot-queries.ts";
import type { Database } from "../schema.ts";
import type { MessageRecord, TransmissionRecord } from "../store.ts";
import type { StoreDialect } from "./dialect.ts";
import { queueStatusEvents } from "./webhook-events.ts";

/** What every part of the store works with: the database, its dialect, the prepared hot statements. */
export interface StoreContext {
  db: Kysely<Database>;
  dialect: StoreDialect;
  hot: HotQueries;
}

export type Db = Kysely<Database> | Transaction<Database>;

export const isoNow = () => new Date().toISOString();

/** The id of the backend row named `name`, made when missing (backends are rows only to give connections a key). */
export async function backendRowId(db: Db, name: string): Promise<number> {
  await db
    .insertInto("backends")
    .values({ name, created_at: isoNow() })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
  const row = await db.selectFrom("backends").select("id").where("name", "=", name).executeTakeFirstOrThrow();
  return row.id;
}

/** Transmissions with their message, connection and backend: who gets what, through which backend. */
export function recipients(db: Db) {
  return db
    .selectFrom("transmissions")
    .innerJoin("messages", "messages.id", "transmissions.message_id")
    .innerJoin("connections", "connections.id", "transmissions.connection_id")
    .innerJoin("backends", "backends.id", "connections.backend_id");
}

type RecipientsExpressions = ExpressionBuilder<Database & { transmissions: Database["transmissions"] }, "transmissions">;

/** A transmission to send now: queued and due, or claimed by a process whose lease ran out. */
export function isDue(eb: RecipientsExpressions, now: number, queuedBefore = now) {
  return eb.or([
    eb.and([eb("transmissions.status", "=", "Q"), eb("transmissions.next_attempt_at", "<=", queuedBefore)]),
    eb.and([eb("transmissions.status", "=", "P"), eb("transmissions.claimed_until", "<", now)]),
  ]);
}

/** `items` in slices small enough that `perItem` bound values each stay under the dialect's limit. */
export function slices<T>(items: readonly T[], perItem: number, dialect: StoreDialect): T[][] {
  const size = Math.max(1, Math.floor(dialect.maxParameters / Math.max(1, perItem)));
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

export function gatewayId(value: unknown): string | null {
  return value === undefined || value === null || value === "" ? null : String(value);
}

export function newMessage(
  m: Pick<Selectable<Database["messages"]>, "id" | "direction" | "status" | "text"> & {
    fields: Fields;
    context?: BackendContext;
    external_id?: string | null;
    in_response_to?: string | null;
    priority?: number;
    claimed_by?: string | null;
    claimed_until?: number | null;
    attempts?: number;
    /** Outbound: a scheduled send's time (see schema.ts). */
    next_attempt_at?: number;
    event_url?: string | null;
  },
  stamp: string,
): Omit<Database["messages"], "handled_by" | "processed_at" | "cancelled_at"> {
  return {
    ...m,
    fields: JSON.stringify(m.fields),
    context: JSON.stringify(m.context ?? {}),
    external_id: m.external_id ?? null,
    in_response_to: m.in_response_to ?? null,
    priority: m.priority ?? 0,
    error: null,
    attempts: m.attempts ?? 0,
    next_attempt_at: m.next_attempt_at ?? 0,
    claimed_by: m.claimed_by ?? null,
    claimed_until: m.claimed_until ?? null,
    created_at: stamp,
    updated_at: stamp,
    sent_at: null,
    delivered_at: null,
    event_url: m.event_url ?? null,
  };
}

export function newTransmission(messageId: string, connectionId: number, direction: Direction, stamp: string, priority = 0, notBefore = 0) {
  return {
    message_id: messageId,
    connection_id: connectionId,
    direction,
    status: "Q" as Status,
    rank: -priority,
    error: null,
    attempts: 0,
    next_attempt_at: notBefore,
    claimed_by: null as string | null,
    claimed_until: null as number | null,
    external_id: null,
    segments: null,
    created_at: stamp,
    updated_at: stamp,
    sent_at: null,
    delivered_at: null,
  };
}

export interface TransmissionRow {
  id: number;
  message_id: string;
  connection_id: number;
  status: Status;
  error: string | null;
  attempts: number;
  next_attempt_at: number;
  external_id: string | null;
  segments: number | null;
  sent_at: string | null;
  delivered_at: string | null;
  backend: string;
  identity: string;
}

export function toTransmission(t: TransmissionRow): TransmissionRecord {
  return {
    id: t.id,
    connectionId: t.connection_id,
    backend: t.backend,
    identity: t.identity,
    status: t.status,
    error: t.error,
    attempts: t.attempts,
    nextAttemptAt: t.status === "Q" && Number(t.next_attempt_at) > 0 ? Number(t.next_attempt_at) : null,
    externalId: t.external_id,
    segments: t.segments,
    sentAt: t.sent_at,
    deliveredAt: t.delivered_at,
  };
}

export function toMessageRecord(m: Selectable<Database["messages"]>, transmissions: TransmissionRow[]): MessageRecord {
  return {
    id: m.id,
    direction: m.direction,
    status: m.status,
    text: m.text,
    fields: JSON.parse(m.fields),
    context: JSON.parse(m.context),
    externalId: m.external_id,
    inResponseTo: m.in_response_to,
    error: m.error,
    createdAt: m.created_at,
    updatedAt: m.updated_at,
    sentAt: m.sent_at,
    deliveredAt: m.delivered_at,
    sendAt: m.direction === "O" && Number(m.next_attempt_at) > 0 ? new Date(Number(m.next_attempt_at)).toISOString() : null,
    handledBy: m.handled_by,
    processedAt: m.processed_at,
    transmissions: transmissions.map(toTransmission),
  };
}

/**
 * Re-derives a message's status from its transmissions (CONTRACTS.md §7.6) and saves it. `changed`
 * names the transmissions the caller's write changed: for a message with an eventUrl, each
 * becomes a status event in the same transaction (see webhook-events.ts).
 */
export async function refreshMessageStatus(
  trx: Transaction<Database>,
  ctx: StoreContext,
  messageId: string,
  stamp: string,
  changed: readonly number[] = [],
): Promise<Status> {
  const { hot, dialect } = ctx;
  // Then read in a statement of its own: it sees what the transaction that held the lock committed.
  await dialect.lockMessage(trx, messageId);
  const rows = (await hot.messageStatuses.run(trx, { id: messageId })).rows;
  if (rows.length === 0) throw new Error(`message ${messageId} is not in the store`);
  const [{ direction, message_status: was, event_url: eventUrl }] = rows;
  const transmissions = rows.filter((r) => r.status !== null);
  const status = deriveMessageStatus(
    direction,
    transmissions.map((r) => r.status!),
  );
  const errors = [...new Set(transmissions.map((r) => r.error).filter((e): e is string => !!e))];
  await hot.setMessageStatus.run(trx, {
    id: messageId,
    status,
    error: errors.length > 0 ? errors.join("; ") : null,
    stamp,
    sentAt: status === "S" && was !== "S" ? stamp : null,
    deliveredAt: status === "D" && was !== "D" ? stamp : null,
  });
  if (eventUrl) {
    const ids = new Set(changed);
    const mine = rows.flatMap((r) => (r.transmission_id !== null && ids.has(r.transmission_id) ? [r.transmission_id] : []));
    if (mine.length > 0) await queueStatusEvents(trx, { messageId, url: eventUrl, transmissionIds: mine, stamp, maxParameters: dialect.maxParameters });
  }
  return status;
}
