/**
 * Reads the gateway's message id from its answer to a send: by a JSON pointer (RFC 6901, such as
 * `/messages/0/apiMessageId`) into a JSON answer, or by a regular expression whose first group is
 * the id (such as `SMSGlobalMsgID:(\d+)`) in any answer.
 */
export function answerIdReader(options: { pointer?: string; pattern?: string }): ((answer: string) => string | undefined) | undefined {
  if (options.pointer !== undefined) {
    const path = parsePointer(options.pointer);
    return (answer) => {
      let value: unknown;
      try {
        value = JSON.parse(answer);
      } catch {
        return undefined;
      }
      for (const key of path) {
        if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
        value = (value as Record<string, unknown>)[key];
      }
      return typeof value === "string" || typeof value === "number" ? String(value) || undefined : undefined;
    };
  }
  if (options.pattern !== undefined) {
    const regex = new RegExp(options.pattern);
    return (answer) => regex.exec(answer)?.[1] || undefined;
  }
  return undefined;
}

/** The keys of a JSON pointer: "" is the whole document, `~1` is `/`, `~0` is `~`. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new TypeError(`a JSON pointer starts with "/", as in /messages/0/id (got ${JSON.stringify(pointer)})`);
  return pointer
    .slice(1)
    .split("/")
    .map((key) => key.replaceAll("~1", "/").replaceAll("~0", "~"));
}
