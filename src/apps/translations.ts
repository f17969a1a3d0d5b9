/**
 * Replies in the recipient's language, gettext-style: the text in the code is the source text
 * (the message id), `%(name)s` marks a value, and each language maps source texts to their
 * translations. `t(...)` marks a text to translate; it is rendered when the router knows who
 * gets it (see Router.process and Router.sendAll).
 */

/** A W3C language tag (BCP 47) as people write it: `en`, `sw`, `pt-BR`, `zh-Hant`. */
export const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

/** Values put into a text where it says `%(name)s`. */
export type TextParams = Readonly<Record<string, string | number>>;

/** A text to be translated for its recipient: made by `t()`. */
export interface Translatable {
  readonly msgid: string;
  readonly params: TextParams;
}

/** Language tag → source text → translation. */
export type Translations = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** Marks `msgid` for translation into each recipient's language, with `params` put in where it says `%(name)s`. */
export function t(msgid: string, params: TextParams = {}): Translatable {
  return { msgid, params };
}

export function isTranslatable(text: unknown): text is Translatable {
  return typeof text === "object" && text !== null && typeof (text as Translatable).msgid === "string";
}

/** `text` with each `%(name)s` replaced by its value; a name without a value is left as it is. */
export function interpolate(text: string, params: TextParams): string {
  return text.replace(/%\(([^)]+)\)s/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** The built-in apps' texts, in the languages RapidSMS.ts ships. */
export const BUILTIN_TRANSLATIONS: Translations = {
  fr: {
    "Sorry, %(project_name)s could not understand your message.": "Désolé, %(project_name)s n'a pas compris votre message.",
    "To echo some text, send: ECHO <ANYTHING>": "Pour qu'un texte vous soit renvoyé, envoyez : ECHO <N'IMPORTE QUOI>",
    "You have been unsubscribed and will receive no more messages. Reply START to subscribe again.":
      "Vous êtes désinscrit et ne recevrez plus de messages. Répondez START pour vous réinscrire.",
    "You have been subscribed again. Reply STOP to unsubscribe.": "Vous êtes de nouveau inscrit. Répondez STOP pour vous désinscrire.",
  },
  es: {
    "Sorry, %(project_name)s could not understand your message.": "Lo sentimos, %(project_name)s no pudo entender su mensaje.",
    "To echo some text, send: ECHO <ANYTHING>": "Para que le devuelvan un texto, envíe: ECHO <CUALQUIER COSA>",
    "You have been unsubscribed and will receive no more messages. Reply START to subscribe again.":
      "Se ha dado de baja y no recibirá más mensajes. Responda START para suscribirse de nuevo.",
    "You have been subscribed again. Reply STOP to unsubscribe.": "Se ha suscrito de nuevo. Responda STOP para darse de baja.",
  },
  pt: {
    "Sorry, %(project_name)s could not understand your message.": "Desculpe, %(project_name)s não entendeu a sua mensagem.",
    "To echo some text, send: ECHO <ANYTHING>": "Para receber um texto de volta, envie: ECHO <QUALQUER COISA>",
    "You have been unsubscribed and will receive no more messages. Reply START to subscribe again.":
      "Você cancelou a inscrição e não receberá mais mensagens. Responda START para se inscrever novamente.",
    "You have been subscribed again. Reply STOP to unsubscribe.": "Você se inscreveu novamente. Responda STOP para cancelar a inscrição.",
  },
  sw: {
    "Sorry, %(project_name)s could not understand your message.": "Samahani, %(project_name)s haikuelewa ujumbe wako.",
    "To echo some text, send: ECHO <ANYTHING>": "Ili maandishi yarudishwe kwako, tuma: ECHO <CHOCHOTE>",
    "You have been unsubscribed and will receive no more messages. Reply START to subscribe again.":
      "Umejiondoa na hutapokea ujumbe tena. Jibu START ili ujiunge tena.",
    "You have been subscribed again. Reply STOP to unsubscribe.": "Umejiunga tena. Jibu STOP ili ujiondoe.",
  },
};

/**
 * Every translation the system knows, looked up by language: the config's first, then the apps'
 * (in app order), then the built-in ones. A language tag falls back to its base language
 * (`pt-BR` to `pt`); a text with no translation is sent as written.
 */
export class Catalog {
  private readonly layers: readonly Translations[];
  /** The language of a recipient who has none: the config's `language`. */
  readonly defaultLanguage: string;

  constructor(layers: readonly Translations[], defaultLanguage = "en") {
    // Tags are matched whatever their case: `pt-BR` and `pt-br` are one language.
    this.layers = layers.map((layer) => Object.fromEntries(Object.entries(layer).map(([tag, texts]) => [tag.toLowerCase(), texts])));
    this.defaultLanguage = defaultLanguage;
  }

  /** `text` for a recipient whose language is `language` ("" for the default). */
  render(text: string | Translatable, language = ""): string {
    if (!isTranslatable(text)) return text;
    return interpolate(this.lookup(text.msgid, language || this.defaultLanguage) ?? text.msgid, text.params);
  }

  private lookup(msgid: string, language: string): string | undefined {
    const tags = candidates(language);
    for (const tag of tags) {
      for (const layer of this.layers) {
        const found = layer[tag]?.[msgid];
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }
}

/** `pt-BR` → `pt-br`, `pt`: the tag, then each shorter prefix, case-insensitively. */
function candidates(language: string): string[] {
  const parts = language.toLowerCase().split("-");
  return parts.map((_, i) => parts.slice(0, parts.length - i).join("-"));
}
