import type { Generated, Kysely } from "kysely";
import { HandlersApp, KeywordHandler, PatternHandler, idColumn, parseNumber, t } from "rapidsms-ts";
import { z } from "zod";

// The app's own tables, as its queries see them.
interface ReportingTables {
  reporters: { id: Generated<number>; connection_id: number; contact_id: number; registered_at: string };
  reports: { id: Generated<number>; reporter_id: number; message_id: string; cases: number; reported_at: string };
}

const settingsSchema = z.object({
  /** The group every reporter joins: staff broadcast to it. */
  group: z.string().default("reporters"),
  /** How many days a report covers. */
  reportEveryDays: z.number().int().positive().default(7),
});

/** REG <name> <age> [language]: the sender becomes a reporter, a contact in the reporters' group. */
class RegisterHandler extends PatternHandler {
  static override pattern = /reg(?:ister)?\s+(.+?)\s+(\d{1,3})(?:\s+([a-z]{2,3}))?\s*$/;

  override async handle(name?: string, age?: string, language?: string) {
    const { group } = (this.app as ReportingApp).settings;
    const contacts = this.router!.contacts;
    // Another reporter's first REG may make the group at the same moment: then it is there to read.
    const reporters = (await contacts.getGroup({ name: group })) ?? (await contacts.createGroup({ name: group })) ?? (await contacts.getGroup({ name: group }));
    const db = this.database<ReportingTables>();
    const known = await db.selectFrom("reporters").select("contact_id").where("connection_id", "=", this.msg.connection.id).executeTakeFirst();
    // REG again (or the same message processed twice) changes the reporter, and makes no second one.
    const details = { name: name!, language: language ?? "", fields: { age: Number(age) } };
    const contact =
      (known && (await contacts.updateContact({ id: known.contact_id, ...details }))) ??
      (await contacts.createContact({ ...details, connections: [{ backend: this.msg.connection.backend, identity: this.msg.connection.identity }] }));
    if (reporters) await contacts.changeGroupMembers({ group: reporters.id, add: [contact.id] });
    await db
      .insertInto("reporters")
      .values({ connection_id: this.msg.connection.id, contact_id: contact.id, registered_at: this.router!.now().toISOString() })
      .onConflict((oc) => oc.column("connection_id").doUpdateSet({ contact_id: contact.id }))
      .execute();
    this.respond(t("Thank you %(name)s, you are registered", { name: contact.name }));
  }
}

/** REPORT <cases>: this period's number of cases. */
class ReportHandler extends KeywordHandler {
  static override keyword = "report";

  override help() {
    this.respond(t("To report, send: REPORT <NUMBER OF CASES>"));
  }

  override async handle(text: string) {
    const cases = parseNumber(text);
    if (cases < 0) return void this.respondError(t("The number of cases cannot be negative"));
    const db = this.database<ReportingTables>();
    const reporter = await db.selectFrom("reporters").select("id").where("connection_id", "=", this.msg.connection.id).executeTakeFirst();
    if (!reporter) return void this.respondError(t("Please register first: send REG <NAME> <AGE>"));
    // The message id makes a report count once, even if this message is processed again after a crash.
    await db
      .insertInto("reports")
      .values({ reporter_id: reporter.id, message_id: this.msg.id, cases, reported_at: this.router!.now().toISOString() })
      .onConflict((oc) => oc.column("message_id").doNothing())
      .execute();
    this.respond(t("Thank you, %(cases)s cases recorded", { cases }));
  }
}

/** STATUS: the sender's last report, and whether the next one is due. */
class StatusHandler extends KeywordHandler {
  static override keyword = "status";
  static override argument = "none" as const;

  override help() {
    this.respond(t("Send STATUS alone to see your last report"));
  }

  override async handle() {
    const { reportEveryDays } = (this.app as ReportingApp).settings;
    const last = await this.database<ReportingTables>()
      .selectFrom("reports")
      .innerJoin("reporters", "reporters.id", "reports.reporter_id")
      .select(["reports.cases", "reports.reported_at"])
      .where("reporters.connection_id", "=", this.msg.connection.id)
      .orderBy("reports.reported_at", "desc")
      .limit(1)
      .executeTakeFirst();
    if (!last) return void this.respond(t("You have not reported yet: send REPORT <NUMBER OF CASES>"));
    const due = new Date(last.reported_at).getTime() + reportEveryDays * 86_400_000 <= this.router!.now().getTime();
    const date = last.reported_at.slice(0, 10);
    this.respond(
      due
        ? t("Your last report: %(cases)s cases on %(date)s. Your next report is due", { cases: last.cases, date })
        : t("Your last report: %(cases)s cases on %(date)s", { cases: last.cases, date }),
    );
  }
}

export class ReportingApp extends HandlersApp {
  static override appName = "reporting";
  static override settingsSchema = settingsSchema;
  declare readonly settings: z.infer<typeof settingsSchema>;
  static override handlers = [RegisterHandler, ReportHandler, StatusHandler];

  static override tables = ["reporters", "reports"];
  static override migrations = {
    "0001_reporters_and_reports": {
      // biome-ignore lint/suspicious/noExplicitAny: a migration sees the database as it is then, not as today's types
      async up(db: Kysely<any>) {
        await db.schema
          .createTable("reporters")
          .addColumn("id", ...idColumn(db))
          .addColumn("connection_id", "integer", (c) => c.notNull().unique().references("connections.id").onDelete("cascade"))
          .addColumn("contact_id", "integer", (c) => c.notNull().references("contacts.id").onDelete("cascade"))
          .addColumn("registered_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("reports")
          .addColumn("id", ...idColumn(db))
          .addColumn("reporter_id", "integer", (c) => c.notNull().references("reporters.id").onDelete("cascade"))
          .addColumn("message_id", "text", (c) => c.notNull().unique())
          .addColumn("cases", "integer", (c) => c.notNull())
          .addColumn("reported_at", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("reports_reporter").on("reports").columns(["reporter_id", "reported_at"]).execute();
      },
    },
  };

  static override translations = {
    sw: {
      "Thank you %(name)s, you are registered": "Asante %(name)s, umesajiliwa",
      "Thank you, %(cases)s cases recorded": "Asante, wagonjwa %(cases)s wamerekodiwa",
      "Please register first: send REG <NAME> <AGE>": "Tafadhali jisajili kwanza: tuma REG <JINA> <UMRI>",
      "Your last report: %(cases)s cases on %(date)s": "Ripoti yako ya mwisho: wagonjwa %(cases)s tarehe %(date)s",
    },
  };
}
