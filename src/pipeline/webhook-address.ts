import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

const IPV4_INTERNAL: readonly [string, number][] = [
  ["0.0.0.0", 8], // unspecified, "this network"
  ["10.0.0.0", 8], // RFC 1918
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12], // RFC 1918
  ["192.168.0.0", 16], // RFC 1918
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];
const IPV6_INTERNAL: readonly [string, number][] = [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["fe80::", 10], // link-local
  ["fc00::", 7], // unique local
  ["ff00::", 8], // multicast
];

function blockList(ranges: readonly [string, number][], family: "ipv4" | "ipv6"): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

const ipv4Internal = blockList(IPV4_INTERNAL, "ipv4");
const ipv6Internal = blockList(IPV6_INTERNAL, "ipv6");
// Apart: a BlockList holding ::ffff:0:0/96 matches every IPv4 address given to it.
const ipv4Mapped = blockList([["::ffff:0:0", 96]], "ipv6");

/**
 * Whether `address` (an IP literal) is one an eventUrl may not reach unless its host is listed in
 * webhooks.allowedHosts: loopback, link-local, private (RFC 1918, CGNAT, ULA), unspecified,
 * multicast, broadcast, and any IPv4-mapped IPv6 address (which would hide those).
 */
export function internalAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "");
  const family = isIP(bare);
  if (family === 4) return ipv4Internal.check(bare, "ipv4");
  if (family === 6) return ipv4Mapped.check(bare, "ipv6") || ipv6Internal.check(bare, "ipv6");
  return false;
}

/** The error a refused address fails the connection with (its code lets the dispatcher give up at once, not retry). */
export class InternalAddressError extends Error {
  readonly code = "WEBHOOK_INTERNAL_ADDRESS";

  constructor(hostname: string) {
    super(`the host ${hostname} resolves to a loopback, private or link-local address: list it in webhooks.allowedHosts if this server may POST there`);
    this.name = "InternalAddressError";
  }
}

/**
 * A `lookup` for net.connect that resolves as usual and fails with InternalAddressError when any
 * address found is internal: checked when connecting, so a name that resolves elsewhere by the
 * time of the POST (DNS rebinding) is caught too. IP literals skip lookups: check them apart.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, "", 0);
    if (addresses.length === 0 || addresses.some((a) => internalAddress(a.address))) return callback(new InternalAddressError(hostname), "", 0);
    if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
    const [first] = addresses;
    return callback(null, first.address, first.family);
  });
};
