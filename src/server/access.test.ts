import assert from "node:assert/strict";
import { test } from "node:test";
import { isLoopback, isLoopbackHost } from "../security/addresses.ts";
import { accessPolicy } from "./access.ts";

const settings = { apiToken: null, host: "127.0.0.1", publicUrl: null, allowedHosts: [], trustedProxies: [] };

test("loopback: 127.0.0.0/8, ::1 and their mapped forms; localhost names", () => {
  for (const address of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) assert.equal(isLoopback(address), true, address);
  for (const address of ["10.0.0.1", "::ffff:10.0.0.1", "1127.0.0.1", "127.0.0.1.evil", undefined]) assert.equal(isLoopback(address), false, String(address));
  for (const host of ["localhost", "LOCALHOST.", "app.localhost", "[::1]", "127.0.0.1"]) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ["0.0.0.0", "::", "example.org", "localhost.example.org"]) assert.equal(isLoopbackHost(host), false, host);
});

test("trusted proxies: single addresses and CIDR ranges, IPv4 (also mapped) and IPv6", () => {
  const policy = accessPolicy({ ...settings, trustedProxies: ["127.0.0.1", "10.0.0.0/8", "fd00::/8"] });
  for (const address of ["127.0.0.1", "::ffff:127.0.0.1", "10.200.3.4", "fd12::1"]) assert.equal(policy.trusted(address), true, address);
  for (const address of ["127.0.0.2", "11.0.0.1", "fe80::1", undefined]) assert.equal(policy.trusted(address), false, String(address));
});

test("allowed hosts: loopback names, the listening host, publicUrl's and allowedHosts; allowed origins likewise", () => {
  const policy = accessPolicy({ ...settings, host: "192.168.1.5", publicUrl: "https://sms.example.org", allowedHosts: ["SMS.lan"] });
  for (const host of ["localhost", "192.168.1.5", "sms.example.org", "sms.lan"]) assert.equal(policy.allowedHost(host), true, host);
  for (const host of ["evil.example", "example.org"]) assert.equal(policy.allowedHost(host), false, host);
  assert.equal(policy.allowedOrigin("https://sms.example.org"), true);
  assert.equal(policy.allowedOrigin("http://evil.example"), false);
  assert.equal(policy.allowedOrigin("null"), false);
  assert.equal(accessPolicy({ ...settings, host: "0.0.0.0" }).allowedHost("0.0.0.0"), false);
});
