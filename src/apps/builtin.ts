import type { AppClass } from "./app.ts";
import { DefaultResponseApp } from "./default-response.ts";
import { EchoApp, PingApp } from "./echo.ts";
import { WebhookApp } from "./webhook.ts";

/** Apps known by name in config. */
export const builtinApps: Readonly<Record<string, AppClass>> = {
  echo: EchoApp,
  ping: PingApp,
  default: DefaultResponseApp,
  webhook: WebhookApp,
};
