import { randomUUID } from "node:crypto";

/** A message id as RapidSMS makes them: a uuid4 as 32 lowercase hex characters. */
export function newMessageId(): string {
  return randomUUID().replaceAll("-", "");
}
