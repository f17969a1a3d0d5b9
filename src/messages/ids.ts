import { v7 } from "uuid";

/**
 * A message id: 32 lowercase hex characters, like RapidSMS's uuid4 hex, but a uuid7, which starts
 * with the time: new rows land at the end of the id indexes instead of all over them, so that a
 * commit writes a few pages rather than one per message.
 */
export function newMessageId(): string {
  return v7().replaceAll("-", "");
}
