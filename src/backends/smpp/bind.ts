import { isIP, type Socket, connect as connectTcp } from "node:net";
import { connect as connectTls } from "node:tls";
import type { Logger } from "pino";
import { type BindCommand, type Pdu, STATUS, statusText } from "./pdu.ts";
import { type PduCounts, SmppSession } from "./session.ts";

export type BindMode = "transceiver" | "transmitter" | "receiver";
/**
 * connecting → binding → bound; on any loss `waiting` (a backoff with jitter), then connecting
 * again; `refused` when the SMSC refused the credentials (retried rarely); `closed` once stopped.
 */
export type BindState = "connecting" | "binding" | "bound" | "waiting" | "refused" | "closed";

export interface TlsSettings {
  /** PEM of the CA that signed the SMSC's certificate, when it is not a public one. */
  ca?: string;
  rejectUnauthorized: boolean;
  /** The name the certificate is for, when it is not `host`. */
  servername?: string;
}

export interface BindSettings {
  host: string;
  port: number;
  tls: TlsSettings | null;
  systemId: string;
  password: string;
  systemType: string;
  addressRange: string;
  responseTimeoutMs: number;
  enquireLinkMs: number;
  /** The first reconnect waits about this long, each next one twice as long up to `maxReconnectMs`. */
  reconnectMs: number;
  maxReconnectMs: number;
  /** How long a bind whose credentials were refused waits before it tries again (they may have been fixed at the SMSC). */
  refusedRetryMs: number;
}

export interface BindHandlers {
  onBound(bind: Bind): void;
  onRequest(pdu: Pdu, session: SmppSession): Promise<void>;
}

/** What bind status means that the SMSC will not take these credentials: which option to fix. */
const REFUSALS = new Map<number, (s: BindSettings) => string>([
  [STATUS.ESME_RINVPASWD, (s) => `the SMSC refused the password for system_id "${s.systemId}": fix the backend's password option`],
  [STATUS.ESME_RINVSYSID, (s) => `the SMSC does not know system_id "${s.systemId}": fix the backend's systemId option`],
  [STATUS.ESME_RINVSYSTYP, (s) => `the SMSC refused system_type "${s.systemType}": fix the backend's systemType option`],
  // Many SMSCs answer any refused credentials so; some also when the account holds all the binds it may.
  [
    STATUS.ESME_RBINDFAIL,
    (s) =>
      `the SMSC refused the bind for system_id "${s.systemId}": check the backend's systemId and password options, and how many binds the account may hold`,
  ],
]);

const COMMANDS: Record<BindMode, BindCommand> = { transceiver: "bind_transceiver", transmitter: "bind_transmitter", receiver: "bind_receiver" };

/**
 * One bind to the SMSC that keeps itself up: it connects (TCP or TLS), binds, and when the
 * connection is lost for any reason it waits (exponential backoff with jitter, so that many
 * binds do not all come back at once) and binds again. Credentials the SMSC refuses are a
 * configuration error: logged once with the option to fix, and tried again only every
 * `refusedRetryMs`, never in a storm.
 */
export class Bind {
  readonly mode: BindMode;
  readonly label: string;
  state: BindState = "closed";
  /** When the state last changed, epoch ms. */
  since = Date.now();
  /** Why the last connection ended or failed, for `health()` (never a secret). */
  lastError: string | null = null;
  /** Binds made since start. */
  connects = 0;
  session: SmppSession | undefined;
  private readonly settings: BindSettings;
  private readonly handlers: BindHandlers;
  private readonly logger: Logger;
  private readonly counts: PduCounts;
  private failures = 0;
  private boundAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private refusal: string | undefined;

  constructor(mode: BindMode, label: string, settings: BindSettings, handlers: BindHandlers, logger: Logger, counts: PduCounts) {
    this.mode = mode;
    this.label = label;
    this.settings = settings;
    this.handlers = handlers;
    this.logger = logger.child({ bind: label });
    this.counts = counts;
  }

  get canSubmit(): boolean {
    return this.state === "bound" && this.mode !== "receiver";
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Unbinds (answers awaited responseTimeoutMs at most) and stays down. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const session = this.session;
    if (session && this.state === "bound") await session.unbind();
    else session?.close("stopped");
    this.setState("closed");
  }

  private setState(state: BindState): void {
    if (this.state === state) return;
    this.state = state;
    this.since = Date.now();
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState("connecting");
    const { host, port, tls, responseTimeoutMs } = this.settings;
    const socket: Socket = tls
      ? connectTls({ host, port, ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized, servername: tls.servername ?? (isIP(host) ? undefined : host) })
      : connectTcp({ host, port });
    const connectTimer = setTimeout(() => socket.destroy(new Error(`no connection to ${host}:${port} within ${responseTimeoutMs} ms`)), responseTimeoutMs);
    const session = new SmppSession(
      socket,
      { responseTimeoutMs, enquireLinkMs: this.settings.enquireLinkMs, maxInFlight: 64, logger: this.logger, counts: this.counts },
      {
        onRequest: (pdu, s) => this.handlers.onRequest(pdu, s),
        onClose: (reason) => {
          clearTimeout(connectTimer);
          this.lost(session, reason);
        },
      },
    );
    this.session = session;
    socket.once(tls ? "secureConnect" : "connect", () => {
      clearTimeout(connectTimer);
      this.bind(session).catch((error: unknown) => session.close(`binding failed: ${(error as Error).message}`));
    });
  }

  private async bind(session: SmppSession): Promise<void> {
    this.setState("binding");
    const s = this.settings;
    let answer: Pdu;
    try {
      answer = await session.request({
        command: COMMANDS[this.mode],
        body: {
          systemId: s.systemId,
          password: s.password,
          systemType: s.systemType,
          interfaceVersion: 0x34,
          addrTon: 0,
          addrNpi: 0,
          addressRange: s.addressRange,
        },
      });
    } catch (error) {
      // Closed or timed out: the session's end says why, and the bind waits and tries again.
      session.close(`no answer to the bind: ${(error as Error).message}`);
      return;
    }
    if (answer.status === STATUS.ESME_ROK) {
      this.boundAt = Date.now();
      this.connects++;
      this.lastError = null;
      if (this.refusal) this.logger.info(`the SMSC takes the credentials again (${this.label})`);
      this.refusal = undefined;
      this.setState("bound");
      this.logger.info(`SMPP ${this.label} bound`);
      this.handlers.onBound(this);
      return;
    }
    const refused = REFUSALS.get(answer.status);
    if (refused) {
      const reason = `${refused(s)} (${statusText(answer.status)})`;
      if (reason !== this.refusal)
        this.logger.error({ status: statusText(answer.status) }, `SMPP ${this.label}: ${reason}; tried again every ${s.refusedRetryMs / 1000} s`);
      this.refusal = reason;
      this.lastError = reason;
      session.close(reason);
      return;
    }
    session.close(`the SMSC refused the bind: ${statusText(answer.status)}`);
  }

  private lost(session: SmppSession, reason: string): void {
    if (this.session !== session) return;
    const wasBound = this.state === "bound";
    this.session = undefined;
    if (this.stopped) {
      this.setState("closed");
      return;
    }
    if (this.refusal) {
      this.setState("refused");
      this.timer = setTimeout(() => this.connect(), this.settings.refusedRetryMs);
      this.timer.unref();
      return;
    }
    this.lastError = reason;
    // The backoff starts afresh only for a bind that stayed up a while: one that drops as soon as it is bound must not come back every second.
    this.failures = wasBound && Date.now() - this.boundAt >= this.settings.maxReconnectMs ? 1 : this.failures + 1;
    const delay = reconnectDelay(this.failures, this.settings);
    this.logger.warn({ reason, retryInMs: delay }, `SMPP ${this.label} is down: ${reason}; binding again in ${Math.round(delay)} ms`);
    this.setState("waiting");
    this.timer = setTimeout(() => this.connect(), delay);
    this.timer.unref();
  }
}

/** The wait before reconnect number `failures` (from 1): exponential, capped, half of it random. */
function reconnectDelay(failures: number, settings: Pick<BindSettings, "reconnectMs" | "maxReconnectMs">, random = Math.random): number {
  const exponential = Math.min(settings.maxReconnectMs, settings.reconnectMs * 2 ** Math.max(0, failures - 1));
  return exponential / 2 + (random() * exponential) / 2;
}
