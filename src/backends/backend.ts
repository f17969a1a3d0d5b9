import { z } from "zod";
import { DEFAULT_IDENTITY_PATTERN } from "../messages/limits.ts";
import type { BackendContext } from "../messages/messages.ts";
import type { FastifyPluginAsync } from "fastify";
import type { BackendPort, PagesContext } from "./port.ts";
import type { BackendView } from "./view.ts";

/** What `BackendBase.send` receives: one text for every identity, all on this backend. */
export interface SendRequest {
  id: string;
  text: string;
  identities: string[];
  context: BackendContext;
  /**
   * Aborted when the pipeline stops waiting: the send's deadline passed, or the process is
   * shutting down. Pass it on to the gateway call (`GatewayClient.call` takes it).
   */
  signal?: AbortSignal;
  /** When the pipeline stops waiting (epoch ms): a backend making several calls starts none it cannot finish by then. */
  deadline?: number;
}

/** What a backend may report about a successful `send`. */
export interface SendResult {
  /** The gateway's own id per identity, to match later delivery reports. */
  externalIds?: Record<string, string>;
  /** The gateway's answer, for the attempt log (secrets removed). */
  answer?: string;
  /**
   * The gateway's id of each part, per identity, when it sent the message in parts whose
   * receipts come one per part (Vonage, SMPP): the transmission is D once every part is
   * delivered, E once one failed. The first id is the identity's `externalIds` entry.
   */
  partIds?: Readonly<Record<string, readonly string[]>>;
  /** SMS parts the text took: one count for every recipient, or the gateway's count per identity. */
  segments?: number | Readonly<Record<string, number>>;
}

/** What a backend that keeps connections to its gateway (SMPP binds) says of them, for `/healthz` and `rapidsms backends`. */
export interface BackendHealth {
  /** ok: every connection is up; degraded: some are; down: none is (sends wait for one, then are retried). */
  status: "ok" | "degraded" | "down";
  /** Each connection: its name, state and since when (ISO time). */
  connections: { name: string; state: string; since: string }[];
  /** Counters since the process started (PDUs, throttles, …) and gauges (queued, window fill). Never secrets. */
  counts: Record<string, number>;
  /** Why connections are down, when they are (never a secret: shown to whoever may use the API). */
  problems?: string[];
}

/**
 * A connection to one SMS gateway. Subclass it, give it a static `engine` name and an
 * `optionsSchema`, implement `send`, and (for inbound traffic) return its HTTP views from `views()`.
 *
 * The framework builds every backend (see build.ts): it validates the options with
 * `optionsSchema` first, constructs the backend, then calls `configure(options)` once, after the
 * subclass's own field initialisers have run. Backends talk to the rest of the system only through
 * their `port`.
 */
export abstract class BackendBase<Options extends object = Record<string, unknown>> {
  /** The name used as `engine` in `installedBackends`. */
  static engine = "";
  /** RapidSMS dotted paths (`ENGINE`) that mean this engine. */
  static aliases: readonly string[] = [];
  /** Validates and defaults the options of an `installedBackends` entry (keys already camelCased). */
  static optionsSchema: z.ZodType<object> = z.object({});
  /** Option keys whose values are never shown (in logs, errors, `rapidsms backends`, gateway answers). */
  static secretOptions: readonly string[] = [];
  /**
   * What an identity on this backend may look like (besides being text of at most 100
   * characters): identities that do not match are refused inbound (400) and outbound (the API's
   * 400). The default refuses control characters; a gateway where a character changes the meaning
   * (Kannel's `to` separates recipients with spaces) says so here.
   */
  static identityPattern: RegExp = DEFAULT_IDENTITY_PATTERN;
  /** `identityPattern` in words, for the refusal: "expected …". */
  static identityRule = "text without control characters";
  /** True for a backend that plays the message tester (its `pages()` are the tester). */
  static providesTester = false;

  readonly port: BackendPort;
  readonly name: string;
  /** The options as configured, after validation. */
  readonly config: Options;

  constructor(port: BackendPort, options: Options) {
    this.port = port;
    this.name = port.name;
    this.config = options;
  }

  /** Called once with the backend's options, right after construction; override to keep what `send` needs. */
  configure(_options: Options): void {}

  /**
   * Delivers `text` to every identity. Resolve on success; throw `MessageSendingError` on failure,
   * with `failedIdentities` when only some identities failed.
   */
  abstract send(request: SendRequest): Promise<SendResult | void>;

  /**
   * Identities one `send` call takes at most, for a gateway that sends each recipient on its own
   * through a window (SMPP): the pipeline then claims no more than it can send before the send's
   * deadline, instead of `pipeline.batchSize` identities per call. Undefined: no limit of its own.
   */
  get batchLimit(): number | undefined {
    return undefined;
  }

  /** The inbound HTTP views of this backend, mounted under `/backend/<name>/`. */
  views(): BackendView[] {
    return [];
  }

  /** Pages for people (a backend with `providesTester` serves the message tester), mounted by the server when configured. */
  pages(_context: PagesContext): FastifyPluginAsync | undefined {
    return undefined;
  }

  /**
   * Opens what the backend keeps open to its gateway (SMPP binds): called when this process starts
   * its workers (roles `worker` and `all`, or an embedded host's `start()`), not in a web-only
   * process, which sends nothing. Resolve without waiting for the gateway: one that is down must
   * not keep the process from starting.
   */
  async start(): Promise<void> {}

  /** The state of the connections the backend keeps (see BackendHealth), or undefined for a backend that keeps none (HTTP gateways). */
  health(): BackendHealth | undefined {
    return undefined;
  }

  /** Lets go of what the backend holds (its gateway connections); the framework calls it when the system closes. */
  async close(): Promise<void> {}

  toString(): string {
    return this.name;
  }
}

/**
 * A backend class as the framework builds it: its constructor takes the options its schema gives
 * (`engine()` checks that at compile time for the shipped ones).
 */
// biome-ignore lint/suspicious/noExplicitAny: a list of engines holds classes of every options type; engine() checks each one
export interface BackendClass<Options extends object = any> {
  new (port: BackendPort, options: Options): BackendBase<Options>;
  engine: string;
  aliases: readonly string[];
  optionsSchema: z.ZodType<object>;
  secretOptions: readonly string[];
  identityPattern: RegExp;
  identityRule: string;
  providesTester: boolean;
}

/** A backend class whose constructor takes exactly what its options schema gives. */
export function engine<S extends z.ZodType<object>>(backend: BackendClass<z.output<S>> & { optionsSchema: S }): BackendClass {
  return backend;
}
