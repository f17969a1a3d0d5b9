import type { OptOutSettings } from "../config/operations.ts";

/** Texts longer than this are no keyword (a keyword is one word of 40 characters at most, plus punctuation). */
const LONGEST = 64;

/** Punctuation and spaces people put around a keyword: "Stop.", "stop!!", "STOP ?", "¡Pare!". */
const AROUND = /^[\p{P}\s]+|[\p{P}\s]+$/gu;

/** A keyword as it is compared: whole, in one Unicode form, case folded ("Arrêter" and "ARRÊTER" are one word). */
export function normalKeyword(text: string): string {
  return text.normalize("NFC").replace(AROUND, "").toUpperCase();
}

export interface KeywordMatch {
  kind: "stop" | "start";
  /** The configured keyword the text matched, as configured. */
  keyword: string;
}

/**
 * Recognises the opt-out keywords (STOP) and the opt-in ones (START): a text matches when it is
 * the keyword alone, whatever its case, with spaces and punctuation around it.
 */
export class OptOutKeywords {
  private readonly words: ReadonlyMap<string, KeywordMatch>;

  constructor(settings: Pick<OptOutSettings, "stop" | "start">) {
    const words = new Map<string, KeywordMatch>();
    // A word in both lists stops: when in doubt, send nothing.
    for (const keyword of settings.start) words.set(normalKeyword(keyword), { kind: "start", keyword });
    for (const keyword of settings.stop) words.set(normalKeyword(keyword), { kind: "stop", keyword });
    this.words = words;
  }

  match(text: string): KeywordMatch | undefined {
    if (text.length > LONGEST) return undefined;
    return this.words.get(normalKeyword(text));
  }
}
