import type { Generated } from "kysely";
import type { Direction, Status } from "../messages/status.ts";

/** Table shapes as Kysely sees them; dates are ISO-8601 strings, fields are JSON text. */
export interface Database {
  backends: { id: Generated<number>; name: string; created_at: string };
  contacts: { id: Generated<number>; name: string; language: string; created_on: string; modified_on: string };
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
    error: string | null;
    created_at: string;
    updated_at: string;
    sent_at: string | null;
    delivered_at: string | null;
  };
  transmissions: {
    id: Generated<number>;
    message_id: string;
    connection_id: number;
    status: Status;
    error: string | null;
    created_at: string;
    updated_at: string;
    sent_at: string | null;
    delivered_at: string | null;
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
