import express from "express";
import { defineConfig, type RapidSmsConfig } from "rapidsms-ts";
import { asView, createRapidSms } from "rapidsms-ts/express";

// The twin of RapidSMS's urls.py:
//   url(r'^sms/incoming/$', GenericHttpBackendView.as_view(backend_name='mybackend')),
// in the built-in server's config:
export const config = defineConfig({
  installedBackends: { mybackend: { engine: "http" } },
  apps: ["echo"],
  urls: { "/sms/incoming/": { backend: "mybackend" } },
});

// And in a host's Express app, a backend's view at a path of the host's choosing:
export async function hostApp(overrides: RapidSmsConfig = {}) {
  const sms = await createRapidSms({ ...config, ...overrides });
  const app = express();
  app.all("/incoming/sms", await asView(sms, { backendName: "mybackend" }));
  return { app, sms };
}
