import type { DeliveryReport } from "../../messages/status.ts";

/** A message sent in several parts: Vonage's ids of its parts, first part first, and what the receipts said of each. */
interface SentMessage {
  ids: readonly string[];
  states: Map<string, DeliveryReport["status"]>;
  /** True once D or E was reported for the whole message. */
  finished: boolean;
  until: number;
}

export interface PartLimits {
  /** Messages remembered at most; the oldest is forgotten first. */
  maxMessages: number;
  /** How long a message is remembered after its send: receipts come within Vonage's 72-hour delivery window. */
  keepMs: number;
}

/** A receipt for one part, as it is to be reported: on the first part's id, for the whole message. */
export interface PartReport {
  externalId: string;
  report: DeliveryReport;
}

/**
 * Vonage sends a receipt for every part of a long message, each naming that part's id, while a
 * send records one gateway id per recipient (the first part's). This keeps, in memory, which
 * parts make each message that this process sent, so that every part's receipt is reported on
 * the message: E as soon as one part failed, D once every part is delivered, and S (recorded
 * only) for the receipts in between. A receipt for a part it does not know (sent by another
 * process, or before a restart) is reported as it is.
 */
export class SentParts {
  private readonly byPart = new Map<string, SentMessage>();
  /** Oldest first. */
  private readonly messages = new Set<SentMessage>();
  private readonly limits: PartLimits;

  constructor(limits: PartLimits) {
    this.limits = limits;
  }

  remember(ids: readonly string[], now = Date.now()): void {
    this.forget(now, 1);
    const message: SentMessage = { ids, states: new Map(), finished: false, until: now + this.limits.keepMs };
    this.messages.add(message);
    for (const id of ids) this.byPart.set(id, message);
  }

  /** The report for a receipt about `partId`, or undefined when the part is not one this process knows. */
  report(partId: string, report: DeliveryReport, now = Date.now()): PartReport | undefined {
    this.forget(now, 0);
    const message = this.byPart.get(partId);
    if (!message) return undefined;
    const index = message.ids.indexOf(partId);
    const which = `part ${index + 1} of ${message.ids.length} (${partId})`;
    const detail = `${report.detail ?? report.status}, ${which}`;
    if (message.states.get(partId) !== "D" && message.states.get(partId) !== "E") message.states.set(partId, report.status);
    const externalId = message.ids[0];
    if (message.finished) return { externalId, report: { status: "S", detail } };
    const states = message.ids.map((id) => message.states.get(id));
    if (report.status === "E") {
      message.finished = true;
      return { externalId, report: { status: "E", detail } };
    }
    if (states.every((state) => state === "D")) {
      message.finished = true;
      return { externalId, report: { status: "D", detail: `${detail}: every part delivered` } };
    }
    return { externalId, report: { status: "S", detail } };
  }

  /** Forgets the messages whose time is up, and the oldest ones until `room` more fit. */
  private forget(now: number, room: number): void {
    for (const old of this.messages) {
      if (old.until > now && this.messages.size + room <= this.limits.maxMessages) break;
      this.messages.delete(old);
      for (const id of old.ids) if (this.byPart.get(id) === old) this.byPart.delete(id);
    }
  }
}
