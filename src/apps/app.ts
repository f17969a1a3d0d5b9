import type { IncomingMessage, OutgoingMessage } from "../messages/messages.ts";
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";
import type { z } from "zod";
import type { AppTables } from "../store/app-data/migrate.ts";
import { PARSED_ONCE } from "../parse-once.ts";
import type { Translations } from "./translations.ts";
import { ConfigError } from "../errors.ts";
import type { RouterApi } from "../router/api.ts";

type PhaseResult = boolean | void | undefined;

/**
 * An app sees every message. Incoming phases run in this order, apps in `apps` order:
 * - filter: returning exactly `true` stops all processing of the message;
 * - parse: every app runs;
 * - handle: the first app returning `true` marks the message handled and ends the phase;
 * - default: runs only when no app handled the message, until one returns `true`;
 * - cleanup: every app runs, only when the message was not handled.
 * `outgoing` runs for each outgoing message, apps in reverse order; returning exactly `false`
 * cancels the message.
 */
export class AppBase {
  /** The name apps are known by in config and logs; defaults to the class name. */
  static appName?: string;
  /**
   * What the config's `appSettings.<appName>` must look like (a zod schema, defaults included);
   * the parsed value is `this.settings`. Type it in the subclass:
   * `declare readonly settings: z.infer<typeof MyApp.settingsSchema>`.
   */
  static settingsSchema?: z.ZodType;
  /**
   * The tables this app keeps its own data in, by the names its queries use (the config's
   * `tablePrefix` is added in the database). Made by `migrations`; see docs/apps.md.
   */
  static tables?: readonly string[];
  /** Kysely migrations that make and change `tables`, run in the order of their names, after RapidSMS's own. */
  static migrations?: Readonly<Record<string, Migration>>;
  /** This app's texts in other languages: language tag → source text → translation (see `t()` and docs/apps.md). */
  static translations?: Translations;
  readonly router: RouterApi;
  readonly settings: unknown;

  constructor(router: RouterApi, settings?: unknown) {
    this.router = router;
    this.settings = settings;
  }

  get name(): string {
    return appName(this.constructor as AppClass);
  }

  /** The database, as Kysely typed by the caller: this app's tables, and RapidSMS's (read them, do not write them). */
  database<DB>(): Kysely<DB> {
    return this.router.database<DB>();
  }

  filter(_msg: IncomingMessage): PhaseResult | Promise<PhaseResult> {}
  parse(_msg: IncomingMessage): PhaseResult | Promise<PhaseResult> {}
  handle(_msg: IncomingMessage): PhaseResult | Promise<PhaseResult> {}
  default(_msg: IncomingMessage): PhaseResult | Promise<PhaseResult> {}
  cleanup(_msg: IncomingMessage): PhaseResult | Promise<PhaseResult> {}
  outgoing(_msg: OutgoingMessage): PhaseResult | Promise<PhaseResult> {}
}

export type AppClass = (new (
  router: RouterApi,
  settings?: unknown,
) => AppBase) &
  Pick<typeof AppBase, "appName" | "settingsSchema" | "tables" | "migrations" | "translations">;

/** What the store needs to make an app's tables, for the apps that have some. */
export function appTables(apps: readonly AppClass[]): AppTables[] {
  return apps
    .filter((App) => (App.tables?.length ?? 0) > 0 || Object.keys(App.migrations ?? {}).length > 0)
    .map((App) => ({ app: appName(App), tables: App.tables ?? [], migrations: App.migrations ?? {} }));
}

export function appName(App: AppClass): string {
  return App.appName ?? App.name;
}

/** An app's settings from the config, checked by its schema; a ConfigError names what is wrong. */
export function appSettings(App: AppClass, given: unknown): unknown {
  if (!App.settingsSchema) {
    if (given !== undefined) throw new ConfigError(`appSettings.${appName(App)}: this app takes no settings (it has no settingsSchema)`);
    return undefined;
  }
  const parsed = App.settingsSchema.safeParse(given ?? {}, PARSED_ONCE);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = issue.path.length > 0 ? `.${issue.path.join(".")}` : "";
  throw new ConfigError(`appSettings.${appName(App)}${at}: ${issue.message}`);
}
export type IncomingPhase = "filter" | "parse" | "handle" | "default" | "cleanup";
export const INCOMING_PHASES: readonly IncomingPhase[] = ["filter", "parse", "handle", "default", "cleanup"];
