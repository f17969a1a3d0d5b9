import { defineConfig } from "rapidsms-ts";
import { ReportingApp } from "./app.ts";

export default defineConfig({
  installedBackends: {
    kannel: {
      engine: "kannel",
      sendsmsUrl: process.env.KANNEL_SENDSMS_URL ?? "http://127.0.0.1:13013/cgi-bin/sendsms",
      sendsmsParams: { username: "afya", password: process.env.KANNEL_PASSWORD, from: "15555" },
    },
  },
  apps: [ReportingApp, "default"],
  appSettings: { reporting: { group: "reporters", reportEveryDays: 7 } },
  projectName: "Afya Reports",
  language: "en",
  translations: {
    sw: { "Sorry, %(project_name)s could not understand your message.": "Samahani, hatukuelewa. Tuma REG <JINA> <UMRI> au REPORT <IDADI>." },
  },
  database: "sqlite:./reporting.db",
});
