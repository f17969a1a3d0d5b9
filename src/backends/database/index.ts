import { z } from "zod";
import { BackendBase, type SendRequest } from "../backend.ts";

/**
 * Stores each outbound message once per identity in the database instead of sending it: the
 * backend for tests, and the store behind the message tester.
 */
export class DatabaseBackend extends BackendBase<object> {
  static override engine = "database";
  static override aliases = ["rapidsms.backends.database.DatabaseBackend"];
  static override optionsSchema: z.ZodType<object> = z.object({}).strict();

  override async send({ id, text, identities, context }: SendRequest): Promise<void> {
    await this.router.store.addBackendMessages(
      identities.map((identity) => ({
        name: this.name,
        direction: "O" as const,
        messageId: id,
        externalId: context.externalId ?? "",
        identity,
        text,
      })),
    );
  }

  /** The messages this backend has sent (newest first). */
  sentMessages(identity?: string) {
    return this.router.store.listBackendMessages({ name: this.name, direction: "O", identity });
  }
}
