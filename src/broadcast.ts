import { LIMITS } from "./messages/limits.ts";
import type { System } from "./system.ts";

/** Why a broadcast sent nothing, and what to say about it. */
export interface BroadcastRefusal {
  refused: "no such group" | "no such backend" | "nobody to send to";
  message: string;
}

export interface BroadcastResult {
  refused?: undefined;
  /** The messages sent: one per LIMITS.recipients members; none when an app's outgoing phase cancelled them. */
  ids: string[];
  recipients: number;
  /** Members left out: no connection (on the backend asked for), or one on a backend that is not installed. */
  skipped: number;
}

/**
 * Sends `text` to every member of a group (by id or name) at their first connection, or their
 * connection on `backend`. The outgoing phases run once per message, as for any send.
 */
export async function broadcastToGroup(
  system: System,
  args: { group: number | string; backend?: string; text: string; sendAt?: Date | string | number },
): Promise<BroadcastResult | BroadcastRefusal> {
  const { store, router, pipeline } = system;
  const notInstalled = args.backend === undefined ? undefined : pipeline.notInstalled(args.backend);
  if (notInstalled) return { refused: "no such backend", message: notInstalled };
  const group = await store.getGroup(typeof args.group === "number" ? { id: args.group } : { name: args.group });
  if (!group) return { refused: "no such group", message: `no group ${typeof args.group === "number" ? `with id ${args.group}` : `named "${args.group}"`}` };
  const all = await store.groupConnections({ group: group.id, backend: args.backend });
  const connections = all.filter((c) => !pipeline.notInstalled(c.backend) && !pipeline.unsendable(c.backend, c.identity));
  if (connections.length === 0)
    return {
      refused: "nobody to send to",
      message: `group "${group.name}" has no member with a connection${args.backend ? ` on ${args.backend}` : ""} to send to`,
    };
  const ids: string[] = [];
  for (let at = 0; at < connections.length; at += LIMITS.recipients) {
    const msg = await router.send(args.text, connections.slice(at, at + LIMITS.recipients), { sendAt: args.sendAt });
    if (msg.processed) ids.push(msg.id);
  }
  return { ids, recipients: connections.length, skipped: group.members - connections.length };
}
