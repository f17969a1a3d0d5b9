import assert from "node:assert/strict";
import { test } from "node:test";
import { testApps } from "../testing/test-apps.ts";
import { HandlersApp } from "./handlers/app.ts";
import { KeywordHandler } from "./handlers/keyword.ts";
import { BUILTIN_TRANSLATIONS, Catalog, interpolate, t } from "./translations.ts";

test("interpolate puts each %(name)s value in, and leaves a name without a value as it is", () => {
  assert.equal(interpolate("Thank you %(name)s, %(name)s!", { name: "Amina" }), "Thank you Amina, Amina!");
  assert.equal(interpolate("%(cases)s cases in %(week)s", { cases: 3 }), "3 cases in %(week)s");
});

test("a catalog looks in the layers in order, falls back from pt-BR to pt, matches tags in any case, and sends an unknown text as written", () => {
  const catalog = new Catalog([{ "PT-br": { Hello: "Oi" } }, { pt: { Hello: "Olá", Bye: "Tchau" }, sw: { Hello: "Habari" } }], "sw");
  assert.equal(catalog.render(t("Hello"), "pt-BR"), "Oi");
  assert.equal(catalog.render(t("Bye"), "pt-br"), "Tchau");
  assert.equal(catalog.render(t("Hello"), "pt"), "Olá");
  assert.equal(catalog.render(t("Hello"), ""), "Habari", "no language: the default one");
  assert.equal(catalog.render(t("Hello"), "de"), "Hello");
  assert.equal(catalog.render("plain text is never translated", "sw"), "plain text is never translated");
});

test("every built-in translation keeps the values of its source text", () => {
  for (const [language, texts] of Object.entries(BUILTIN_TRANSLATIONS)) {
    for (const [source, translated] of Object.entries(texts)) {
      const names = (text: string) => [...text.matchAll(/%\(([^)]+)\)s/g)].map((m) => m[1]).sort();
      assert.deepEqual(names(translated), names(source), `${language}: ${source}`);
    }
  }
});

class Register extends KeywordHandler {
  static override keyword = "reg";
  override help() {
    this.respond(t("Send REG and your name"));
  }
  override handle(name: string) {
    this.respond(t("Thank you %(name)s, you are registered", { name }));
  }
}

class Registration extends HandlersApp {
  static override appName = "registration";
  static override handlers = [Register];
  static override translations = {
    sw: { "Thank you %(name)s, you are registered": "Asante %(name)s, umesajiliwa", "Send REG and your name": "Tuma REG na jina lako" },
    fr: { "Thank you %(name)s, you are registered": "Merci %(name)s, vous êtes inscrit" },
  };
}

test("a reply follows the contact's language; someone with none, or who is no contact, gets the configured default", async () => {
  await using t1 = await testApps({ apps: [Registration, "echo", "default"] });
  await t1.contact("+255700000001", { name: "Amina", language: "sw" });
  await t1.contact("+33600000001", { name: "Luc", language: "fr-FR" });
  assert.deepEqual(await t1.receive("REG Amina", "+255700000001"), ["Asante Amina, umesajiliwa"]);
  assert.deepEqual(await t1.receive("REG Luc", "+33600000001"), ["Merci Luc, vous êtes inscrit"]);
  assert.deepEqual(await t1.receive("REG Ann", "+15550000001"), ["Thank you Ann, you are registered"]);
  await using swahili = await testApps({ apps: [Registration], settings: { language: "sw" } });
  assert.deepEqual(await swahili.receive("REG", "+255700000009"), ["Tuma REG na jina lako"]);
});

test("the built-in apps' texts come translated: the default response and echo's help", async () => {
  await using t1 = await testApps({ apps: ["echo", "default"], settings: { projectName: "Kliniki" } });
  await t1.contact("1", { language: "sw" });
  await t1.contact("2", { language: "fr" });
  assert.deepEqual(await t1.receive("hello?", "1"), ["Samahani, Kliniki haikuelewa ujumbe wako."]);
  assert.deepEqual(await t1.receive("echo", "2"), ["Pour qu'un texte vous soit renvoyé, envoyez : ECHO <N'IMPORTE QUOI>"]);
  assert.deepEqual(await t1.receive("hello?", "3"), ["Sorry, Kliniki could not understand your message."]);
});

test("the config's translations win over the apps' and the built-in ones, and translate a custom default response", async () => {
  await using t1 = await testApps({
    apps: [Registration, "default"],
    settings: { defaultResponse: "Send HELP for help" },
    translations: { sw: { "Send HELP for help": "Tuma HELP kwa msaada", "Thank you %(name)s, you are registered": "Karibu %(name)s!" } },
  });
  await t1.contact("1", { language: "sw" });
  assert.deepEqual(await t1.receive("what", "1"), ["Tuma HELP kwa msaada"]);
  assert.deepEqual(await t1.receive("REG Juma", "1"), ["Karibu Juma!"]);
});

test("a translated send to several people goes as one message per language", async () => {
  await using t1 = await testApps({ apps: [Registration] });
  await t1.contact("1", { language: "sw" });
  await t1.contact("2", { language: "fr" });
  await t1.contact("3", { language: "sw" });
  const sent = await t1.send(t("Thank you %(name)s, you are registered", { name: "all" }), ["1", "2", "3", "4"]);
  assert.equal(sent.length, 3);
  assert.deepEqual(
    t1.outbox.map((m) => [m.identity, m.text]),
    [
      ["1", "Asante all, umesajiliwa"],
      ["3", "Asante all, umesajiliwa"],
      ["2", "Merci all, vous êtes inscrit"],
      ["4", "Thank you all, you are registered"],
    ],
  );
});
