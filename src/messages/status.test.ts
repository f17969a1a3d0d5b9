import assert from "node:assert/strict";
import { test } from "node:test";
import { deriveMessageStatus, type Direction, type Status } from "./status.ts";

// CONTRACTS.md §7.6, Message.set_status.
const cases: [Direction, Status[], Status][] = [
  ["O", ["S", "S"], "S"],
  ["O", ["S", "D"], "S"],
  ["O", ["D", "D"], "D"],
  ["O", ["P", "S"], "P"],
  ["O", ["Q", "D"], "P"],
  ["O", ["S", "E"], "E"],
  ["O", ["E", "P"], "E"],
  ["O", ["D", "E"], "E"],
  ["I", ["R"], "R"],
  ["I", ["R", "R"], "R"],
  ["I", ["Q"], "Q"],
  ["I", ["R", "P"], "Q"],
  ["I", ["R", "E"], "E"],
];

for (const [direction, transmissions, expected] of cases) {
  test(`${direction === "O" ? "outbound" : "inbound"} message with transmissions ${transmissions.join(",")} is ${expected}`, () => {
    assert.equal(deriveMessageStatus(direction, transmissions), expected);
  });
}
