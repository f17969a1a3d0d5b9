/** Texts longer than this are no keyword, whatever they hold: the bound on the work done on any text. */
const LONGEST_TEXT = 256;
/** A keyword is one word of 40 characters at most; past this, once trimmed, a text is none. */
const LONGEST_WORD = 64;

/**
 * Invisible characters (Unicode format characters: zero-width spaces and joiners, the word joiner,
 * soft hyphens, direction marks, BOMs) that phones and copy-paste slip into a word. They go before
 * the text is normalised, so that what they split composes again.
 */
const INVISIBLE = /\p{Cf}/gu;
/**
 * Punctuation, symbols (emoji among them, with their variation selectors) and spaces people put
 * around a keyword: "Stop.", "stop!!", "STOP ?", "¡Pare!", "STOP 🛑", "stop 🙏🏽".
 */
const AROUND = /^(?:[\p{P}\p{S}\s]|\uFE0E|\uFE0F)+|(?:[\p{P}\p{S}\s]|\uFE0E|\uFE0F)+$/gu;

/**
 * A keyword as it is compared: whole, without invisible characters, in its compatibility form
 * (full-width "ＳＴＯＰ" is "STOP"; "ê" is "e" and a combining circumflex), case folded. "" when
 * nothing but punctuation, spaces and invisible characters is left.
 */
export function normalKeyword(text: string): string {
  return text.replace(INVISIBLE, "").normalize("NFKC").replace(AROUND, "").toUpperCase();
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

  constructor(settings: { stop: readonly string[]; start: readonly string[] }) {
    const words = new Map<string, KeywordMatch>();
    // A word in both lists stops: when in doubt, send nothing.
    for (const keyword of settings.start) words.set(normalKeyword(keyword), { kind: "start", keyword });
    for (const keyword of settings.stop) words.set(normalKeyword(keyword), { kind: "stop", keyword });
    // A keyword of punctuation alone (the config refuses it) would make every empty text one.
    words.delete("");
    this.words = words;
  }

  match(text: string): KeywordMatch | undefined {
    if (text.length > LONGEST_TEXT) return undefined;
    const word = normalKeyword(text);
    if (word.length > LONGEST_WORD) return undefined;
    return this.words.get(word);
  }
}
