import type { Logger } from "pino";
import type { Claim, ClaimStore } from "../store/store.ts";

/**
 * This process's claims. Each claim gets a token of its own; a claim is renewed only while a job
 * holds it, so the moment its jobs end (done or failed) it is left to run out, and work whose
 * job died is claimed again by someone else within `leaseMs`.
 */
export class Leases {
  readonly owner: string;
  private readonly store: ClaimStore;
  private readonly leaseMs: number;
  private readonly logger: Logger;
  /** Tokens held, with how many jobs hold each. */
  private readonly held = new Map<string, number>();
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: { store: ClaimStore; owner: string; leaseMs: number; logger: Logger }) {
    this.store = options.store;
    this.owner = options.owner;
    this.leaseMs = options.leaseMs;
    this.logger = options.logger;
  }

  /** A new claim, leased from now. */
  claim(now = Date.now()): Claim {
    return { token: `${this.owner}#${++this.seq}`, until: now + this.leaseMs };
  }

  /** A job holds `token` until it calls the function returned (once; later calls do nothing). */
  hold(token: string): () => void {
    this.held.set(token, (this.held.get(token) ?? 0) + 1);
    let holding = true;
    return () => {
      if (!holding) return;
      holding = false;
      const left = (this.held.get(token) ?? 1) - 1;
      if (left > 0) this.held.set(token, left);
      else this.held.delete(token);
    };
  }

  /** The tokens some job holds now. */
  tokens(): string[] {
    return [...this.held.keys()];
  }

  /** Renews the held claims a third of a lease apart. */
  start(): void {
    this.timer ??= setInterval(() => void this.renew(), Math.max(20, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  /** Gives back what is still held (its jobs ran past the shutdown deadline), for other workers to claim at once. */
  async release(): Promise<void> {
    const tokens = this.tokens();
    this.held.clear();
    if (tokens.length === 0) return;
    this.logger.warn({ claims: tokens.length }, "work still running at the shutdown deadline is given back for other workers");
    await this.store.releaseClaims({ tokens });
  }

  /** Stops renewing. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async renew(): Promise<void> {
    const tokens = this.tokens();
    if (tokens.length === 0) return;
    try {
      await this.store.renewClaims({ tokens, until: Date.now() + this.leaseMs });
    } catch (error) {
      this.logger.error({ err: error }, "renewing work leases failed; work not renewed in time goes to other workers");
    }
  }
}
