import { engine, type BackendClass } from "./backend.ts";

/** A shipped engine by its name (and RapidSMS's dotted paths for it), loaded when a config installs it. */
export interface ShippedEngine {
  engine: string;
  aliases?: readonly string[];
  load(): Promise<BackendClass>;
}

/**
 * The shipped engines: one line per backend. A server loads only the engines its config installs,
 * not every gateway's client and codec (see shipped-engines.ts for them all as classes).
 */
export const shippedEngineLoaders: readonly ShippedEngine[] = [
  { engine: "http", load: async () => engine((await import("./http/index.ts")).HttpBackend) },
  {
    engine: "database",
    aliases: ["rapidsms.backends.database.DatabaseBackend"],
    load: async () => engine((await import("./database/index.ts")).DatabaseBackend),
  },
  { engine: "httptester", load: async () => engine((await import("./message-tester/index.ts")).HttpTesterBackend) },
  {
    engine: "kannel",
    aliases: ["rapidsms.backends.kannel.KannelBackend", "rapidsms.backends.kannel.outgoing.KannelBackend"],
    load: async () => engine((await import("./kannel/index.ts")).KannelBackend),
  },
  {
    engine: "vumi",
    aliases: ["rapidsms.backends.vumi.VumiBackend", "rapidsms.backends.vumi.outgoing.VumiBackend"],
    load: async () => engine((await import("./vumi/index.ts")).VumiBackend),
  },
  { engine: "infobip", load: async () => engine((await import("./infobip/index.ts")).InfobipBackend) },
  { engine: "twilio", load: async () => engine((await import("./twilio/index.ts")).TwilioBackend) },
  { engine: "africastalking", load: async () => engine((await import("./africastalking/index.ts")).AfricasTalkingBackend) },
  { engine: "telerivet", load: async () => engine((await import("./telerivet/index.ts")).TelerivetBackend) },
  { engine: "android-sms-gateway", load: async () => engine((await import("./android-sms-gateway/index.ts")).AndroidSmsGatewayBackend) },
  { engine: "vonage", load: async () => engine((await import("./vonage/index.ts")).VonageBackend) },
  { engine: "smpp", load: async () => engine((await import("./smpp/index.ts")).SmppBackend) },
];
