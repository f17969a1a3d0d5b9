import { AfricasTalkingBackend } from "./africastalking/index.ts";
import { engine, type BackendClass } from "./backend.ts";
import { AndroidSmsGatewayBackend } from "./android-sms-gateway/index.ts";
import { DatabaseBackend } from "./database/index.ts";
import { HttpBackend } from "./http/index.ts";
import { InfobipBackend } from "./infobip/index.ts";
import { KannelBackend } from "./kannel/index.ts";
import { HttpTesterBackend } from "./message-tester/index.ts";
import { SmppBackend } from "./smpp/index.ts";
import { TelerivetBackend } from "./telerivet/index.ts";
import { TwilioBackend } from "./twilio/index.ts";
import { VonageBackend } from "./vonage/index.ts";
import { VumiBackend } from "./vumi/index.ts";

/**
 * Every shipped engine as a class, for code that lists them or adds its own (`engines` of
 * resolveConfig). The registry (registry.ts) has the same engines by name, loaded on demand; a
 * test keeps the two the same.
 */
export const shippedEngines: readonly BackendClass[] = [
  engine(HttpBackend),
  engine(DatabaseBackend),
  engine(HttpTesterBackend),
  engine(KannelBackend),
  engine(VumiBackend),
  engine(InfobipBackend),
  engine(TwilioBackend),
  engine(AfricasTalkingBackend),
  engine(TelerivetBackend),
  engine(AndroidSmsGatewayBackend),
  engine(VonageBackend),
  engine(SmppBackend),
];
