import { z } from "zod";
import { ConfigError } from "../errors.ts";
import type { IncomingMessage } from "../messages/messages.ts";
import { AppBase, type AppClass } from "./app.ts";

const webhookSettingsSchema = z
  .object({
    /** Where each inbound message is POSTed, as JSON, signed with the config's `webhooks.secret`. */
    url: z
      .string()
      .max(2048)
      .url()
      .refine((url) => /^https?:\/\//i.test(url), "expected an http:// or https:// URL"),
  })
  .strict();

/**
 * Hands inbound messages to another system (a Django or Rails app, a data platform), like
 * RapidPro's external channels: each message the apps before it did not handle is queued for a
 * signed POST to `appSettings.webhook.url`, durably (retried until the receiver takes it), and
 * counts as handled. The receiver may answer with replies (see docs/operations.md).
 */
export class WebhookApp extends AppBase {
  static override appName = "webhook";
  static override settingsSchema = webhookSettingsSchema;
  declare readonly settings: z.infer<typeof webhookSettingsSchema>;

  override async handle(msg: IncomingMessage): Promise<boolean> {
    await this.router.forward(msg, { url: this.settings.url });
    return true;
  }
}

/** A ConfigError when the apps include the webhook app (or one made from it) and there is no secret to sign with. */
export function checkWebhookApps(apps: readonly AppClass[], secret: string | null): void {
  if (secret) return;
  const forwarding = apps.find((App) => App === WebhookApp || App.prototype instanceof WebhookApp);
  if (forwarding) {
    throw new ConfigError(
      `the app "${forwarding.appName ?? forwarding.name}" signs what it forwards: set webhooks.secret in the config (16 characters at least) or the environment variable RAPIDSMS_WEBHOOK_SECRET`,
    );
  }
}
