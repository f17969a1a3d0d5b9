import assert from "node:assert/strict";
import { test } from "node:test";
import { redactUrlCredentials, sameSecret, secretRedactor, secretValues, urlPasswords } from "./secrets.ts";

test("sameSecret: equal texts only, whatever their lengths or characters", () => {
  assert.equal(sameSecret("s3cret-token", "s3cret-token"), true);
  assert.equal(sameSecret("s3cret-token", "s3cret-tokeN"), false);
  assert.equal(sameSecret("", "s3cret-token"), false);
  assert.equal(sameSecret("s3cret-token-and-more", "s3cret-token"), false);
  assert.equal(sameSecret("pässwörd☃", "pässwörd☃"), true);
});

test("secretRedactor: every form of a secret, in one pass, longest first", () => {
  const secret = 'p@ss w0rd/"x"';
  const redact = secretRedactor([secret, "s3cr3t-t0ken-long"]);
  const text = [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
    "s3cr3t-t0ken-long",
  ].join(" | ");
  assert.equal(redact(text), "*** | *** | *** | *** | ***");
});

test("secretRedactor: short secrets only as whole words; one- and two-character values are left alone", () => {
  const redact = secretRedactor(["abc", "1", "xy"]);
  assert.equal(redact("password=abc&user=abcdef"), "password=***&user=abcdef");
  assert.equal(redact("1 of 3 failed, xy"), "1 of 3 failed, xy");
  assert.equal(secretRedactor([])("nothing to hide"), "nothing to hide");
});

test("secretValues: every text inside an option", () => {
  assert.deepEqual(secretValues({ username: "u", password: "p", port: 13013, nested: { key: ["k1", "k2"] }, off: null }), ["u", "p", "13013", "k1", "k2"]);
});

test("URL credentials are hidden in texts and their passwords found", () => {
  const text = "sending to https://clinic:p%40ss@gw.example/send and postgres://app:db-pass@127.0.0.1/x, not to http://host/a@b";
  assert.equal(redactUrlCredentials(text), "sending to https://clinic:***@gw.example/send and postgres://app:***@127.0.0.1/x, not to http://host/a@b");
  assert.deepEqual(urlPasswords(text), ["p@ss", "p%40ss", "db-pass", "db-pass"]);
});
