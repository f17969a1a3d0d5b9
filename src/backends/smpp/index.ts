import { BackendBase, type BackendHealth, type SendRequest, type SendResult } from "../backend.ts";
import { MessageSendingError } from "../../errors.ts";
import { DurableConcat } from "../durable-concat.ts";
import { Bind, type BindMode } from "./bind.ts";
import { type InboundCounts, SmppInbound } from "./inbound.ts";
import { type SmppOptions, smppOptionsSchema } from "./options.ts";
import { createSmppSender } from "./outbound.ts";
import type { Pdu } from "./pdu.ts";
import type { PduCounts, SmppSession } from "./session.ts";
import { type SubmitCounts, Submitter } from "./submitter.ts";

/**
 * SMPP 3.4, straight to an operator's or aggregator's SMSC: binds kept up (transceivers, or
 * transmitters and a receiver; reconnected with backoff), submit_sm through a window per bind,
 * throttling waited out, long texts split (UDH, SAR or message_payload), MO reassembled from its
 * parts durably, and delivery receipts matched to their sends. Binds open in processes that send
 * (roles worker and all); see docs/gateways/smpp.md.
 */
export class SmppBackend extends BackendBase<SmppOptions> {
  static override engine = "smpp";
  static override optionsSchema = smppOptionsSchema;
  static override secretOptions = ["password"];
  /** destination_addr: up to 20 digits, with or without a leading + (dropped when sending). */
  static override identityPattern = /^\+?[0-9]{1,20}$/;
  static override identityRule = "a phone number of up to 20 digits, with or without a leading +";

  private readonly counts: PduCounts & SubmitCounts & InboundCounts = {
    pdusSent: 0,
    pdusReceived: 0,
    lateResponses: 0,
    genericNacks: 0,
    inboundThrottled: 0,
    submitted: 0,
    throttled: 0,
    resentUnconfirmed: 0,
    abandoned: 0,
    received: 0,
    receipts: 0,
    unmatchedReceipts: 0,
  };
  private readonly binds: Bind[] = [];
  private readonly submitter: Submitter;
  private readonly inbound: SmppInbound;
  private readonly concat: DurableConcat;
  private readonly sender: (request: SendRequest) => Promise<SendResult>;
  private reference = Math.floor(Math.random() * 256);
  private started = false;

  constructor(...args: ConstructorParameters<typeof BackendBase<SmppOptions>>) {
    super(...args);
    const config = this.config;
    const modes: BindMode[] =
      config.bindMode === "transceiver" ? Array(config.binds).fill("transceiver") : [...Array(config.binds).fill("transmitter"), "receiver"];
    const logger = this.port.logger;
    this.submitter = new Submitter(this.binds, {
      window: config.window,
      throttleMs: config.throttleMs,
      maxThrottleMs: config.maxThrottleMs,
      logger,
      counts: this.counts,
    });
    this.concat = new DurableConcat(
      this.port.parts,
      { timeoutMs: config.concatTimeoutMs },
      (message) => this.inbound.receive(message.sender, message.text, message.fields),
      logger,
    );
    this.inbound = new SmppInbound(this.port, config, this.concat, this.counts);
    const handlers = { onBound: () => this.submitter.pump(), onRequest: (pdu: Pdu, session: SmppSession) => this.inbound.handle(pdu, session) };
    // The options hold every bind setting; transmitters and transceivers come first, so their index is their number.
    for (const [i, mode] of modes.entries())
      this.binds.push(new Bind(mode, mode === "receiver" ? "receiver 1" : `${mode} ${i + 1}`, config, handlers, logger, this.counts));
    this.sender = createSmppSender(config, this.submitter, () => {
      this.reference = (this.reference + 1) % 256;
      return this.reference;
    });
  }

  override async start(): Promise<void> {
    this.started = true;
    for (const bind of this.binds) bind.start();
  }

  /** What the windows of the binds that send hold: more per call would wait in the queue for the deadline. */
  override get batchLimit(): number {
    return this.config.window * this.binds.filter((b) => b.mode !== "receiver").length;
  }

  override send(request: SendRequest): Promise<SendResult> {
    if (!this.started)
      return Promise.reject(
        new MessageSendingError(`${this.name}: this process keeps no SMPP bind (binds open in processes that send: roles worker and all)`, { retryable: true }),
      );
    return this.sender(request);
  }

  override health(): BackendHealth {
    const bound = this.binds.filter((b) => b.state === "bound").length;
    const problems = this.binds.filter((b) => b.state !== "bound" && b.lastError).map((b) => `${b.label}: ${b.lastError}`);
    return {
      status: !this.started || bound === 0 ? "down" : bound === this.binds.length ? "ok" : "degraded",
      connections: this.binds.map((b) => ({ name: b.label, state: this.started ? b.state : "not started", since: new Date(b.since).toISOString() })),
      counts: {
        ...this.counts,
        queued: this.submitter.queued,
        inWindow: this.binds.reduce((sum, b) => sum + this.submitter.inWindow(b), 0),
        window: this.config.window * this.binds.filter((b) => b.mode !== "receiver").length,
      },
      ...(problems.length > 0 && { problems }),
    };
  }

  override async close(): Promise<void> {
    await this.submitter.close(`${this.name} is closing`, this.config.responseTimeoutMs);
    await Promise.all(this.binds.map((b) => b.stop()));
    await this.concat.close();
  }
}
