import type { Logger } from "pino";
import type { BackendClass } from "../backends/backend.ts";
import { GatewayClient, type GatewayClientOptions } from "../backends/gateway-client.ts";
import type { BackendPort, DeliveryRef, InboundParts, MessageLog } from "../backends/port.ts";
import type { Connection } from "../messages/connection.ts";
import type { Fields } from "../messages/messages.ts";
import type { Conversation, SessionMark } from "../messages/session.ts";
import { IncomingMessage } from "../messages/messages.ts";
import type { DeliveryReport } from "../messages/status.ts";
import { unfitIdentity } from "../messages/limits.ts";
import { redactUrlCredentials, secretRedactor, secretValues } from "../security/secrets.ts";
import type { Store, TransmissionRef } from "../store/store.ts";
import type { StatusEvents } from "./status-events.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { reportLabel } from "../metrics/labels.ts";
import { SESSION_FIELD } from "../messages/session.ts";

export interface BackendPortInit {
  name: string;
  engine: BackendClass;
  options: object;
  /** The config's top-level `publicUrl`: the default of a backend's own. */
  publicUrl: string | null;
  store: Store;
  logger: Logger;
  events: StatusEvents;
  metrics: Metrics;
  accept(msg: IncomingMessage): Promise<{ id: string; duplicate: boolean }>;
  converse(msg: IncomingMessage, options: { deadlineMs: number }): Promise<Conversation>;
  lookupConnections(backend: string, identities: readonly string[]): Promise<Connection[]>;
}

/** The one way a backend reaches the system: everything scoped to its own name. */
export function backendPort(init: BackendPortInit): BackendPort {
  const { name, engine, options, store, metrics } = init;
  const secrets = engine.secretOptions.flatMap((key) => secretValues((options as Record<string, unknown>)[key]));
  const messages: MessageLog = {
    add: (rows) => store.addBackendMessages(rows.map((row) => ({ ...row, name }))),
    list: async (query = {}) => (await store.listBackendMessages({ ...query, name })).map(({ name: _name, ...row }) => row),
    count: (query = {}) => store.countBackendMessages({ ...query, name }),
    clear: (identity) => store.clearBackendMessages({ name, identity }),
  };
  const own = (options as { publicUrl?: unknown }).publicUrl;
  const publicUrl = typeof own === "string" && own !== "" ? own : init.publicUrl;
  const parts: InboundParts = {
    hold: (key, part) => store.holdInboundPart({ backend: name, key, part }),
    release: (key, held) => store.releaseInboundParts({ backend: name, key, parts: held }),
    expired: (maxAgeMs) => store.expiredInboundParts({ backend: name, olderThan: Date.now() - maxAgeMs, limit: 100 }),
  };
  const redactSecrets = secretRedactor(secrets);
  // As the logs are: the backend's secret options, and passwords written in URLs.
  const redact = (text: string) => redactSecrets(redactUrlCredentials(text));
  return {
    name,
    parts,
    redact,
    publicUrl: publicUrl ? publicUrl.replace(/\/+$/, "") : null,
    logger: init.logger.child({ backend: name }),
    messages,
    async receive(text: string, connection: Connection, receiveOptions: { fields?: Fields; id?: string; session?: SessionMark } = {}) {
      // Only the backend's own word puts a message in a session: a gateway field of that name is not taken for one.
      let fields = receiveOptions.fields;
      if (fields && SESSION_FIELD in fields) {
        const { [SESSION_FIELD]: _claimed, ...rest } = fields;
        fields = rest;
      }
      if (receiveOptions.session) fields = { ...fields, [SESSION_FIELD]: receiveOptions.session };
      const accepted = await init.accept(new IncomingMessage({ connections: [connection], text, fields, id: receiveOptions.id }));
      metrics.inbound(name, accepted.duplicate ? "duplicate" : "accepted");
      return accepted;
    },
    async converse(text, connection, { session, fields, deadlineMs }) {
      const msg = new IncomingMessage({ connections: [connection], text, fields: { ...fields, [SESSION_FIELD]: session } });
      const conversation = await init.converse(msg, { deadlineMs });
      // A step refused as busy was never stored. (A step sent again and answered from the kept answers counts as accepted.)
      if (conversation.outcome !== "busy") metrics.inbound(name, conversation.outcome === "duplicate" ? "duplicate" : "accepted");
      return conversation;
    },
    lookupConnections: (identities) => init.lookupConnections(name, identities),
    checkIdentity: (identity) => unfitIdentity(identity),
    async reportDelivery(ref: DeliveryRef, report: DeliveryReport) {
      const result = await store.reportDelivery({ ref: { backend: name, ...ref } as TransmissionRef, report });
      init.events.emitRecorded(name, result.changes ?? []);
      metrics.report(name, reportLabel(report, result));
      return { matched: result.transmissionIds.length, kept: result.kept ?? false, reason: result.unmatched };
    },
    gatewayClient: (clientOptions: GatewayClientOptions) => new GatewayClient({ ...clientOptions, secrets: [...secrets, ...(clientOptions.secrets ?? [])] }),
  };
}
