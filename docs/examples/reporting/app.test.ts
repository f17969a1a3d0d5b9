import assert from "node:assert/strict";
import { test } from "node:test";
import { testApps } from "rapidsms-ts/testing";
import { ReportingApp } from "./app.ts";

test("a reporter registers, reports, and asks for their status", async () => {
  await using t = await testApps({ apps: [ReportingApp, "default"], now: "2026-03-02T08:00:00Z" });
  assert.deepEqual(await t.receive("REG Amina 34", "+255700000001"), ["Thank you Amina, you are registered"]);
  assert.deepEqual(await t.receive("REPORT 3", "+255700000001"), ["Thank you, 3 cases recorded"]);
  assert.deepEqual(await t.receive("STATUS", "+255700000001"), ["Your last report: 3 cases on 2026-03-02"]);
});

test("the next report is due a week later, by the clock the test moves", async () => {
  await using t = await testApps({ apps: [ReportingApp], now: "2026-03-02T08:00:00Z" });
  await t.receive("REG Juma 41", "+255700000002");
  await t.receive("REPORT 0", "+255700000002");
  t.clock.advance({ days: 7 });
  assert.deepEqual(await t.receive("status", "+255700000002"), ["Your last report: 0 cases on 2026-03-02. Your next report is due"]);
});

test("a report before registering, or without a number, is answered with an error", async () => {
  await using t = await testApps({ apps: [ReportingApp] });
  assert.deepEqual(await t.receive("REPORT 3", "+255700000003"), ["Please register first: send REG <NAME> <AGE>"]);
  assert.deepEqual(await t.receive("REPORT three", "+255700000003"), ["Not a valid number: three"]);
  assert.deepEqual(await t.receive("REPORT", "+255700000003"), ["To report, send: REPORT <NUMBER OF CASES>"]);
  assert.equal(t.outbox[0].kind, "error");
});

test("a reporter who registers in Swahili gets the replies in Swahili", async () => {
  await using t = await testApps({ apps: [ReportingApp] });
  assert.deepEqual(await t.receive("REG Neema 29 sw", "+255700000004"), ["Asante Neema, umesajiliwa"]);
  assert.deepEqual(await t.receive("REPORT 2", "+255700000004"), ["Asante, wagonjwa 2 wamerekodiwa"]);
});

test("every reporter is a contact in the reporters group, with their age as a field", async () => {
  await using t = await testApps({ apps: [ReportingApp], appSettings: { reporting: { group: "chws" } } });
  await t.receive("REG Amina 34", "+255700000001");
  await t.receive("REG Juma 41", "+255700000002");
  const group = await t.store.getGroup({ name: "chws" });
  const members = await t.store.listContacts({ limit: 10, group: group!.id });
  assert.deepEqual(
    members.items.map((c) => [c.name, c.fields.age, c.connections[0].identity]),
    [
      ["Amina", 34, "+255700000001"],
      ["Juma", 41, "+255700000002"],
    ],
  );
});

test("registering again changes the reporter and makes no second one", async () => {
  await using t = await testApps({ apps: [ReportingApp] });
  await t.receive("REG Amina 34", "+255700000001");
  assert.deepEqual(await t.receive("REG Amina Said 35 sw", "+255700000001"), ["Asante Amina Said, umesajiliwa"]);
  const group = await t.store.getGroup({ name: "reporters" });
  assert.equal(group?.members, 1);
  const [reporter] = (await t.store.listContacts({ limit: 10 })).items;
  assert.deepEqual([reporter.name, reporter.language, reporter.fields], ["Amina Said", "sw", { age: 35 }]);
});

test("a report counts once, even when its message is processed twice", async () => {
  await using t = await testApps({ apps: [ReportingApp] });
  await t.receive("REG Amina 34", "+255700000001");
  const [connection] = await t.router.lookupConnections("mockbackend", ["+255700000001"]);
  const msg = await t.router.receive("REPORT 5", connection);
  await t.router.process(msg);
  await t.router.process(msg);
  const reports = await t.router.database<{ reports: { cases: number } }>().selectFrom("reports").select("cases").execute();
  assert.deepEqual(
    reports.map((r) => r.cases),
    [5],
  );
});
