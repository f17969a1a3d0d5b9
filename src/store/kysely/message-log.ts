import { sql } from "kysely";
import type { BackendOutcomes, HourlyCount, MessageLogStore, MessageStats } from "../store.ts";
import type { StoreContext } from "./rows.ts";

/**
 * The message log's charts: both queries walk `messages_created_at` over the window (then, for
 * the outcomes, `transmissions_message`), so their cost grows with the messages in the window and
 * nothing else.
 */
export class MessageLog implements Pick<MessageLogStore, "messageStats"> {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async messageStats({ since, until }: { since: string; until: string }): Promise<MessageStats> {
    const { db } = this.ctx;
    // ISO times sort as text: the first 13 characters are the hour ("2026-12-02T01").
    const hour = sql<string>`substr(${sql.ref("messages.created_at")}, 1, 13)`;
    const hours = await db
      .selectFrom("messages")
      .select([hour.as("hour"), "messages.direction", (eb) => eb.fn.countAll<number | string>().as("n")])
      .where("messages.created_at", ">=", since)
      .where("messages.created_at", "<", until)
      .groupBy([hour, "messages.direction"])
      .execute();
    const hourly = new Map<string, HourlyCount>();
    for (const row of hours) {
      const key = `${row.hour}:00:00.000Z`;
      const counts = hourly.get(key) ?? { hour: key, in: 0, out: 0 };
      counts[row.direction === "I" ? "in" : "out"] += Number(row.n);
      hourly.set(key, counts);
    }
    const outcomes = await db
      .selectFrom("messages")
      .innerJoin("transmissions", "transmissions.message_id", "messages.id")
      .innerJoin("connections", "connections.id", "transmissions.connection_id")
      .innerJoin("backends", "backends.id", "connections.backend_id")
      .select(["backends.name as backend", "transmissions.status", (eb) => eb.fn.countAll<number | string>().as("n")])
      .where("messages.created_at", ">=", since)
      .where("messages.created_at", "<", until)
      // Direction is grouped on, not filtered on: with it in the WHERE, SQLite walks an index by
      // direction (every outbound message ever) rather than the window.
      .groupBy(["backends.name", "transmissions.direction", "transmissions.status"])
      .select("transmissions.direction")
      .execute();
    const backends = new Map<string, BackendOutcomes>();
    for (const row of outcomes) {
      if (row.direction !== "O") continue;
      const counts = backends.get(row.backend) ?? { backend: row.backend, delivered: 0, failed: 0, sent: 0, pending: 0 };
      counts[OUTCOME[row.status]] += Number(row.n);
      backends.set(row.backend, counts);
    }
    return {
      since,
      until,
      hourly: [...hourly.values()].sort((a, b) => a.hour.localeCompare(b.hour)),
      backends: [...backends.values()].sort((a, b) => a.backend.localeCompare(b.backend)),
    };
  }
}

/** An outbound transmission's status as the charts count it (R does not occur on outbound ones; counted pending if it did). */
const OUTCOME: Record<string, keyof Omit<BackendOutcomes, "backend">> = { D: "delivered", E: "failed", S: "sent", Q: "pending", P: "pending", R: "pending" };
