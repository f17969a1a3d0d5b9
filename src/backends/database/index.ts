import { z } from "zod";
import { BackendBase, type SendRequest } from "../backend.ts";
import type { LoggedMessage } from "../port.ts";

/**
 * Stores each outbound message once per identity in the database instead of sending it: the
 * backend for tests, and the store behind the message tester.
 */
export class DatabaseBackend extends BackendBase<Record<string, never>> {
  static override engine = "database";
  static override aliases = ["rapidsms.backends.database.DatabaseBackend"];
  static override optionsSchema = z.object({}).strict();

  override async send({ id, text, identities, context }: SendRequest): Promise<void> {
    await this.port.messages.add(
      identities.map((identity) => ({ direction: "O" as const, messageId: id, externalId: context.externalId ?? "", identity, text })),
    );
  }

  /** The messages this backend has sent (newest first). */
  sentMessages(identity?: string): Promise<LoggedMessage[]> {
    return this.port.messages.list({ direction: "O", identity });
  }
}
