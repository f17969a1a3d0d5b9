import { defineConfig } from "../../src/index.ts";
import { JsonGatewayBackend } from "./custom-outbound-backend.ts";
import { ExtraParamsHttpBackendView } from "./extra-field-form.ts";
import { OnlyTextMeHttpBackendView } from "./one-number-form.ts";
import { PhoneMessageView } from "./phone-message-view.ts";

export default defineConfig({
  installedBackends: {
    httptester: { engine: "httptester" },
    "custom-http": { engine: "http", params: { identityName: "phone", textName: "message" }, methods: ["post"] },
    mybackend: { engine: "http", view: PhoneMessageView },
    "extra-params": { engine: "http", view: ExtraParamsHttpBackendView },
    "only-text-me": { engine: "http", view: OnlyTextMeHttpBackendView },
    gateway: { engine: JsonGatewayBackend, url: "http://127.0.0.1:9000/messages", token: process.env.GATEWAY_TOKEN },
  },
  apps: ["echo", "ping", "default"],
  database: "sqlite:./rapidsms.db",
});
