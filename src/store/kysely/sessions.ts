import type { SessionRecord, SessionStore } from "../store.ts";
import { backendRowId, type Db, type StoreContext } from "./rows.ts";

/** Saves a step of a session within `db` (a transaction: completeIncoming saves it with the step's replies). */
export async function writeSession(db: Db, { backend, key, state, ended, now = Date.now() }: Parameters<SessionStore["saveSession"]>[0]): Promise<void> {
  const stamp = new Date(now).toISOString();
  const backendId = await backendRowId(db, backend);
  await db
    .updateTable("message_sessions")
    .set((eb) => ({ state: JSON.stringify(state), steps: eb("steps", "+", 1), updated_at: stamp, ...(ended ? { ended_at: stamp } : {}) }))
    .where("backend_id", "=", backendId)
    .where("session_key", "=", key)
    .execute();
}

/**
 * Conversations a gateway holds open across messages (USSD, Vumi's session_event): one row per
 * backend and gateway session key, with the state apps keep between steps, so that a session
 * goes on after a restart between two of its steps.
 */
export class Sessions implements SessionStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async openSession({
    backend,
    key,
    identity,
    messageId,
    restart = false,
    now = Date.now(),
  }: Parameters<SessionStore["openSession"]>[0]): Promise<SessionRecord> {
    const stamp = new Date(now).toISOString();
    const fresh = { identity, first_message_id: messageId, steps: 0, state: "{}", started_at: stamp, updated_at: stamp, ended_at: null };
    const row = await this.ctx.dialect.write(async (trx) => {
      const backendId = await backendRowId(trx, backend);
      const insert = trx.insertInto("message_sessions").values({ backend_id: backendId, session_key: key, ...fresh });
      // A gateway that says a session begins under a key we know (keys reused after an end) starts it afresh, unless this very message opened it (a retried first step).
      await (restart
        ? insert.onConflict((oc) => oc.columns(["backend_id", "session_key"]).doUpdateSet(fresh).where("message_sessions.first_message_id", "!=", messageId))
        : insert.onConflict((oc) => oc.columns(["backend_id", "session_key"]).doNothing())
      ).execute();
      return trx.selectFrom("message_sessions").selectAll().where("backend_id", "=", backendId).where("session_key", "=", key).executeTakeFirstOrThrow();
    });
    return {
      backend,
      key,
      identity: row.identity,
      firstMessageId: row.first_message_id,
      steps: row.steps,
      state: JSON.parse(row.state) as Record<string, unknown>,
      startedAt: row.started_at,
      updatedAt: row.updated_at,
      endedAt: row.ended_at,
    };
  }

  async saveSession(args: Parameters<SessionStore["saveSession"]>[0]): Promise<void> {
    await this.ctx.dialect.write((trx) => writeSession(trx, args));
  }

  async purgeSessions(olderThan: number): Promise<void> {
    await this.ctx.db.deleteFrom("message_sessions").where("updated_at", "<", new Date(olderThan).toISOString()).execute();
  }
}
