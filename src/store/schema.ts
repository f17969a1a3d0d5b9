import type { Generated } from "kysely";
import type { Direction, Status } from "../messages/status.ts";
import type { AttemptOutcome, OptOutSource } from "./store.ts";

/**
 * Table shapes as Kysely sees them. Dates people read are ISO-8601 strings; times the pipeline
 * compares (leases, retry times, dedupe) are epoch milliseconds. fields and context are JSON text.
 */
export interface Database {
  backends: { id: Generated<number>; name: string; created_at: string };
  contacts: { id: Generated<number>; name: string; language: string; fields: Generated<string>; created_on: string; modified_on: string };
  contact_groups: { id: Generated<number>; name: string; description: Generated<string>; created_on: string; modified_on: string };
  contact_group_members: { group_id: number; contact_id: number; added_on: string };
  /** Parts of long inbound messages, held until the whole message is received. */
  inbound_parts: {
    backend_id: number;
    group_key: string;
    part_number: number;
    total: number;
    text: string;
    fields: string;
    /** The part's own gateway id, when it has one: how a part sent again is known. */
    external_id: string | null;
    received_at: number;
    /** When the whole message was received: its parts are kept until the purge, to know a part sent again. */
    released_at: number | null;
  };
  /** The gateway's id of each part of a long message sent (receipts come per part); none for a one-part message. */
  transmission_parts: { transmission_id: number; part_number: number; external_id: string; status: "S" | "D" | "E" | null };
  /** Sessions gateways hold open across messages (USSD): the state apps keep between steps. */
  message_sessions: {
    backend_id: number;
    session_key: string;
    identity: string;
    first_message_id: string;
    steps: number;
    state: string;
    started_at: string;
    updated_at: string;
    ended_at: string | null;
  };
  connections: {
    id: Generated<number>;
    backend_id: number;
    identity: string;
    contact_id: number | null;
    created_on: string;
    modified_on: string;
  };
  messages: {
    id: string;
    direction: Direction;
    status: Status;
    text: string;
    fields: string;
    external_id: string | null;
    in_response_to: string | null;
    context: string;
    priority: number;
    error: string | null;
    /** Inbound: claims for processing so far (the current one included). */
    attempts: number;
    /**
     * Inbound: epoch ms before which a message whose processing failed is not claimed again.
     * Outbound: a scheduled send's time (its transmissions' first `next_attempt_at`), else 0.
     */
    next_attempt_at: number;
    /** The token of the claim that holds it (see Store.Claim), or null. */
    claimed_by: string | null;
    claimed_until: number | null;
    created_at: string;
    updated_at: string;
    sent_at: string | null;
    delivered_at: string | null;
    /** Outbound: where each status change of its transmissions is POSTed (see webhook_deliveries), or null. */
    event_url: string | null;
    /** Inbound: the app whose handle (or default) phase answered it, once processed. */
    handled_by: Generated<string | null>;
    /** Outbound: when it was cancelled (DELETE /api/messages/<id>); what was being sent then is not tried again. */
    cancelled_at: Generated<string | null>;
    /** Inbound: when it was processed (R). */
    processed_at: Generated<string | null>;
  };
  transmissions: {
    id: Generated<number>;
    message_id: string;
    connection_id: number;
    /** The message's direction, repeated here so that claims can walk one index. */
    direction: Direction;
    status: Status;
    /** Send order: the negated message priority (replies -1, bulk 0); lower goes first. */
    rank: number;
    error: string | null;
    attempts: number;
    next_attempt_at: number;
    claimed_by: string | null;
    claimed_until: number | null;
    external_id: string | null;
    segments: number | null;
    created_at: string;
    updated_at: string;
    sent_at: string | null;
    delivered_at: string | null;
  };
  send_pacing: { backend: string; next_at: number };
  inbound_dedupe: { backend: string; external_id: string; message_id: string; received_at: number };
  attempts: {
    id: Generated<number>;
    transmission_id: number;
    attempt: number;
    at: string;
    outcome: AttemptOutcome;
    duration_ms: number;
    error: string | null;
    answer: string | null;
  };
  delivery_reports: {
    id: Generated<number>;
    transmission_id: number;
    at: string;
    status: Status;
    detail: string | null;
    /** Identifies the report's content: the same report twice is recorded once. */
    fingerprint: string | null;
  };
  /** Reports naming a gateway id no transmission has yet: they overtook the send's answer. */
  pending_reports: {
    id: Generated<number>;
    backend: string;
    external_id: string;
    status: Status;
    detail: string | null;
    fingerprint: string;
    received_at: number;
  };
  /** Connections that opted out (STOP): nothing is sent to them but the confirmation of their opt-out. */
  opt_outs: {
    connection_id: number;
    opted_out_at: string;
    source: OptOutSource;
    /** The keyword sent, the provider's reason, who made it through the API or the CLI. */
    detail: string;
    /** The message that opted them out (their STOP), whose confirmation still goes. */
    message_id: string | null;
  };
  /**
   * The keyword message (START) that last opted each connection back in, so that it is known
   * again when processed again after a failure. No part of sending reads it.
   */
  opt_ins: {
    connection_id: number;
    message_id: string;
    opted_in_at: string;
  };
  /** The webhook outbox: inbound messages forwarded to other apps, and status events for `eventUrl`s (see store/kysely/webhooks.ts). */
  webhook_deliveries: {
    id: Generated<number>;
    kind: "message" | "status";
    /** Names the event (message and url, or transmission, status and attempt): the same event is queued once. */
    dedupe_key: string;
    message_id: string;
    transmission_id: number | null;
    url: string;
    /** The JSON POSTed, exactly as signed. */
    body: string;
    /** Q queued, P being POSTed (claimed), S accepted by the receiver, E given up. */
    status: "Q" | "P" | "S" | "E";
    attempts: number;
    next_attempt_at: number;
    claimed_by: string | null;
    claimed_until: number | null;
    error: string | null;
    /** The HTTP status of the last answer, if one came. */
    answer_status: number | null;
    /** The start of the last answer's body (bounded). */
    answer: string | null;
    created_at: string;
    updated_at: string;
  };
  backend_messages: {
    id: Generated<number>;
    name: string;
    date: string;
    direction: Direction;
    message_id: string;
    external_id: string;
    identity: string;
    text: string;
  };
}

/** Every table of Database: the names a table prefix applies to (a test checks them against the migrations). */
export const TABLES = [
  "backends",
  "contacts",
  "contact_groups",
  "contact_group_members",
  "connections",
  "messages",
  "transmissions",
  "send_pacing",
  "inbound_dedupe",
  "attempts",
  "delivery_reports",
  "pending_reports",
  "backend_messages",
  "message_sessions",
  "inbound_parts",
  "transmission_parts",
  "opt_outs",
  "webhook_deliveries",
  "opt_ins",
] as const satisfies readonly (keyof Database)[];

// Fails to compile when a table of Database is missing from TABLES.
const _everyTable: Record<keyof Database, true> = Object.fromEntries(TABLES.map((t) => [t, true])) as Record<(typeof TABLES)[number], true>;
