import { z } from "zod";

const octet = z.number().int().min(0).max(255);
/** A C-octet string of at most `max` printable Latin-1 characters (what SMPP carries; control characters have no place in these fields). */
const cstring = (max: number, what: string) =>
  z
    .string()
    .max(max, `${what}: SMPP 3.4 allows at most ${max} characters`)
    .regex(/^[ -~\u00a0-\u00ff]*$/, `${what}: only printable Latin-1 characters fit an SMPP field`);

const tlsSchema = z
  .union([
    z.boolean(),
    z
      .object({
        /** PEM of the CA that signed the SMSC's certificate (a private CA). */
        ca: z.string().min(1).optional(),
        /** false accepts any certificate: for a test SMSC only. */
        rejectUnauthorized: z.boolean().default(true),
        servername: z.string().min(1).optional(),
      })
      .strict(),
  ])
  .default(false)
  .transform((tls) => (tls === false ? null : tls === true ? { rejectUnauthorized: true } : tls));

export const smppOptionsSchema = z
  .object({
    host: z.string({ error: "expected the SMSC's host name or address" }).min(1, "expected the SMSC's host name or address"),
    port: z.number().int().min(1).max(65_535).default(2775),
    systemId: cstring(15, "systemId").min(1, "expected the system_id the SMSC gave you"),
    password: cstring(8, "password").default(""),
    systemType: cstring(12, "systemType").default(""),
    /** The bind's address_range: which numbers' messages the SMSC routes to this bind (a regular expression, as the SMSC reads it). */
    addressRange: cstring(40, "addressRange").default(""),
    /** One transceiver per bind, or a transmitter per bind plus one receiver. */
    bindMode: z.enum(["transceiver", "transmitter-receiver"], { error: "expected transceiver or transmitter-receiver" }).default("transceiver"),
    /** Binds that share the sending, per process that sends. */
    binds: z.number().int().min(1).max(32).default(1),
    tls: tlsSchema,
    /** The sender of outbound messages: a number, a short code, or an alphanumeric sender id (up to 11 characters on most networks). */
    sourceAddr: cstring(20, "sourceAddr").default(""),
    /** TON/NPI of sourceAddr; by default 5/0 for an alphanumeric sender, 1/1 for an international number, 0/1 for a short code. */
    sourceAddrTon: octet.nullable().default(null),
    sourceAddrNpi: octet.nullable().default(null),
    destAddrTon: octet.default(1),
    destAddrNpi: octet.default(1),
    serviceType: cstring(5, "serviceType").default(""),
    /** submit_sm awaiting their answer per bind at most. */
    window: z.number().int().min(1).max(1_000).default(10),
    /** enquire_link after this long without a PDU from the SMSC (0: never). */
    enquireLinkMs: z.number().int().nonnegative().default(30_000),
    /** How long any request waits for its response. */
    responseTimeoutMs: z.number().int().positive().default(10_000),
    /** registered_delivery of every submit_sm: 1 asks for a receipt on success and failure, 2 on failure only, 0 none. */
    registeredDelivery: octet.default(1),
    /** How a text longer than one SMS goes: parts with a UDH, parts with the SAR TLVs, or whole in message_payload. */
    longMessages: z.enum(["udh", "sar", "payload"], { error: "expected udh, sar or payload" }).default("udh"),
    /** How the SMSC writes message ids (see receipt.ts): as they come, or hex in submit_sm_resp and decimal in receipts, or the reverse. */
    messageIdFormat: z.enum(["auto", "hex", "decimal"], { error: "expected auto, hex or decimal" }).default("auto"),
    /** What data_coding 0 means to this SMSC: GSM 03.38 one septet per octet (most), packed, Latin-1 or ASCII. */
    defaultAlphabet: z.enum(["gsm", "gsm-packed", "latin1", "ascii"], { error: "expected gsm, gsm-packed, latin1 or ascii" }).default("gsm"),
    /** Text that is not GSM 03.38 but fits Latin-1 goes as data_coding 3 (140 characters an SMS) instead of UCS-2 (70). */
    useLatin1: z.boolean().default(false),
    /** How long the first part of a long inbound SMS waits for the others before what came is received. */
    concatTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(10 * 60_000),
    /** The first reconnect waits about this long (doubling, with jitter, up to maxReconnectMs). */
    reconnectMs: z.number().int().positive().default(1_000),
    maxReconnectMs: z.number().int().positive().default(60_000),
    /** A bind whose credentials were refused tries again this often (they may be fixed at the SMSC meanwhile). */
    refusedRetryMs: z
      .number()
      .int()
      .positive()
      .default(5 * 60_000),
    /** The first pause after ESME_RTHROTTLED or ESME_RMSGQFUL (doubling while they go on, up to maxThrottleMs). */
    throttleMs: z.number().int().positive().default(250),
    maxThrottleMs: z.number().int().positive().default(5_000),
  })
  .strict();

export type SmppOptions = z.output<typeof smppOptionsSchema>;
