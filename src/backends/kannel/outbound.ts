import { MessageSendingError } from "../../errors.ts";
import { isGsm7, smsSize } from "../../messages/encoding.ts";
import type { SendRequest, SendResult } from "../backend.ts";
import type { GatewayClient } from "../gateway-client.ts";
import { percentEncodeBytes } from "../../http/urlencoded.ts";
import { encodeText, UnencodableTextError, type EncodeErrors, type OutboundCharset } from "./charset.ts";

export interface KannelSendOptions {
  backendName: string;
  sendsmsUrl: string;
  sendsmsParams: Record<string, string>;
  charset: OutboundCharset;
  /** "auto": GSM-7 text goes as coding 0 in `charset`, anything else as UCS-2 (coding 2, sent as UTF-8 for Kannel to convert). */
  coding: "auto" | 0 | 1 | 2;
  encodeErrors: EncodeErrors;
  deliveryReportUrl: string | null;
  dlrMask: number;
  timeoutMs: number;
  maxConcurrency: number;
}

/** The Kannel escapes a delivery report fills in: status, SMSC answer, smsc, Kannel's id, SMSC id, phone, time. */
const DLR_QUERY = "status=%d&status_text=%A&smsc=%i&sms_id=%I&fid=%F&identity=%p&date_sent=%t";

/** Builds the sendsms GET of one message to all its identities (CONTRACTS.md §3.2, with automatic UCS-2). */
export function prepareSendsms(options: KannelSendOptions, { id, text, identities }: SendRequest): { url: string; segments: number } {
  const automatic = options.coding === "auto";
  const ucs2 = automatic && !isGsm7(text);
  const charset: OutboundCharset = ucs2 ? "UTF-8" : options.charset;
  const coding = automatic ? (ucs2 ? 2 : 0) : options.coding;
  const query: [string, string][] = Object.entries(options.sendsmsParams).map(([k, v]) => [k, encodeURIComponent(v)]);
  const set = (name: string, encoded: string) => {
    const at = query.findIndex(([k]) => k === name);
    if (at === -1) query.push([name, encoded]);
    else query[at] = [name, encoded];
  };
  set("to", identities.map((identity) => encodeURIComponent(identity)).join("+"));
  set("text", percentEncodeBytes(encodeText(text, charset, options.encodeErrors)));
  set("coding", String(coding));
  set("charset", charset);
  if (options.deliveryReportUrl) {
    const base = `${options.deliveryReportUrl.replace(/\/+$/, "")}/backend/${options.backendName}/status/`;
    set("dlr-mask", String(options.dlrMask));
    set("dlr-url", encodeURIComponent(`${base}?message_id=${encodeURIComponent(id)}&${DLR_QUERY}`));
  }
  const url = `${options.sendsmsUrl}${options.sendsmsUrl.includes("?") ? "&" : "?"}${query.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join("&")}`;
  return { url, segments: smsSize(text).segments };
}

/**
 * Kannel's sendsms over keep-alive connections, at most `maxConcurrency` at once. 202 (`0: Accepted
 * for delivery`, `3: Queued for later delivery`) is sent; 403 (credentials) and 400 are permanent;
 * 5xx and connection errors are retried. Every value of `sendsmsParams` is kept out of what is
 * stored and shown (it is the backend's secret option), since that is where Kannel takes its
 * username and password.
 */
export function createKannelSender(options: KannelSendOptions, client: GatewayClient) {
  return async function send(request: SendRequest): Promise<SendResult> {
    let prepared: { url: string; segments: number };
    try {
      prepared = prepareSendsms(options, request);
    } catch (error) {
      if (!(error instanceof UnencodableTextError)) throw error;
      throw new MessageSendingError(`${error.message}: set coding to "auto" or choose another charset`, { retryable: false, code: "TEXT_UNENCODABLE" });
    }
    const answer = await client.call({ method: "GET", url: prepared.url, signal: request.signal });
    return { answer: answer.logText, segments: prepared.segments };
  };
}
