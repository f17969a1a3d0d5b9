import { z } from "zod";
import type { BackendContext } from "../messages/messages.ts";
import type { Router } from "../router/router.ts";
import type { BackendRow } from "../store/store.ts";
import type { BackendView } from "./view.ts";
import { findEngine } from "./engines.ts";

/** What `BackendBase.send` receives: one text for every identity, all on this backend. */
export interface SendRequest {
  id: string;
  text: string;
  identities: string[];
  context: BackendContext;
}

/** What a backend may report about a successful `send`. */
export interface SendResult {
  /** The gateway's own id per identity, to match later delivery reports. */
  externalIds?: Record<string, string>;
  /** The gateway's answer, for the attempt log (secrets removed). */
  answer?: string;
  /** SMS parts the text takes, per recipient. */
  segments?: number;
}

/**
 * A connection to one SMS gateway. Subclass it, give it a static `engine` name and an
 * `optionsSchema`, implement `send`, and (for inbound traffic) return its HTTP views from `views()`.
 */
export abstract class BackendBase<Options extends object = Record<string, unknown>> {
  /** The name used as `engine` in `installedBackends`. */
  static engine = "";
  /** RapidSMS dotted paths (`ENGINE`) that mean this engine. */
  static aliases: readonly string[] = [];
  /** Validates and defaults the options of an `installedBackends` entry (keys already camelCased). */
  static optionsSchema: z.ZodType<object> = z.object({});
  /** Option keys whose values are never shown (in logs, errors, `rapidsms backends`). */
  static secretOptions: readonly string[] = [];

  readonly router: Router;
  readonly name: string;
  /** The options as configured, after validation. */
  readonly config: Options;

  constructor(router: Router, name: string, options: Options) {
    this.router = router;
    this.name = name;
    this.config = options;
  }

  /**
   * Builds a backend and configures it. Use this rather than `new`: `configure` runs after the
   * constructor, so what it sets is not overwritten by the subclass's own field initialisers.
   */
  static create<B extends BackendBase<any>>(this: new (router: Router, name: string, options: any) => B, router: Router, name: string, options: object): B {
    const backend = new this(router, name, options);
    backend.configure(options);
    return backend;
  }

  /** Called once with the backend's options, right after construction; override to keep what `send` needs. */
  configure(_options: Options): void {}

  /**
   * Delivers `text` to every identity. Resolve on success; throw `MessageSendingError` on failure,
   * with `failedIdentities` when only some identities failed.
   */
  abstract send(request: SendRequest): Promise<SendResult | void>;

  /** The inbound HTTP views of this backend, mounted under `/backend/<name>/`. */
  views(): BackendView[] {
    return [];
  }

  /** The persisted Backend row of this backend (created on first use). */
  get model(): Promise<BackendRow> {
    return this.router.store.getOrCreateBackend(this.name);
  }

  toString(): string {
    return this.name;
  }

  /** The backend class of an engine name or RapidSMS dotted path; throws if none matches. */
  static find(engine: string): BackendClass {
    return findEngine(engine);
  }
}

export type BackendClass = {
  new (router: Router, name: string, options: any): BackendBase<any>;
  create(router: Router, name: string, options: object): BackendBase<any>;
  engine: string;
  aliases: readonly string[];
  optionsSchema: z.ZodType<object>;
  secretOptions: readonly string[];
};
