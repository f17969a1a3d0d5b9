/** A part of a long inbound message that its gateway delivered on its own (a concatenated SMS), as kept until the whole message is in. */
export interface HeldPart {
  /** From 1. */
  number: number;
  total: number;
  text: string;
  fields: Record<string, unknown>;
  /** The part's own gateway id, when it has one. */
  externalId: string | null;
  /** When it was kept, epoch ms. */
  receivedAt: number;
}

/** What keeping a part gave: whether it was kept already, the whole message once all its parts are in, and an incomplete message it displaced. */
export interface HoldOutcome {
  duplicate: boolean;
  /** Every part in order, once the message is whole (also when the part was a duplicate of a whole message not yet released). */
  complete: HeldPart[] | undefined;
  /** An incomplete message that another under the same key replaced, set aside under a key of its own: receive it as it is, then release it. */
  displaced?: { key: string; parts: HeldPart[] };
}
