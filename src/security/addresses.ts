const LOOPBACK_NAMES = new Set(["localhost", "::1", "[::1]"]);

/** Whether a host name or address can only be reached from this machine. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return LOOPBACK_NAMES.has(name) || name.endsWith(".localhost") || isLoopback(name);
}

/** Whether a peer address (as a socket reports it) is on loopback. */
export function isLoopback(address: string | undefined): boolean {
  return !!address && (address === "::1" || /^127\.\d+\.\d+\.\d+$/.test(address) || /^::ffff:127\.\d+\.\d+\.\d+$/i.test(address));
}
