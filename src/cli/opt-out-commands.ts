import { type Command, InvalidArgumentError } from "commander";

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number above 0");
  return n;
}

/** `opt-out`, `opt-in` and `opt-outs`: what operators do when someone asks by another way than a STOP. */
export function optOutCommands(program: Command): void {
  program
    .command("opt-out")
    .description("opt someone out: nothing more is sent to them (recorded as an operator's, with your user name)")
    .argument("<backend>", "the installed backend")
    .argument("<identity>", "their phone number or address on it")
    .option("-r, --reason <text>", "why, kept with the opt-out")
    .action((backend: string, identity: string, options) =>
      import("./opt-outs.ts").then(({ runOptOut }) => runOptOut({ ...program.opts(), ...options, backend, identity })),
    );

  program
    .command("opt-in")
    .description("opt someone back in (exits 1 when they were not opted out)")
    .argument("<backend>", "the installed backend")
    .argument("<identity>", "their phone number or address on it")
    .action((backend: string, identity: string) => import("./opt-outs.ts").then(({ runOptIn }) => runOptIn({ ...program.opts(), backend, identity })));

  program
    .command("opt-outs")
    .description("list who opted out: since when, how, and why")
    .option("-b, --backend <name>", "only the opt-outs on this backend")
    .option("-n, --limit <n>", "show at most this many", count)
    .action((options) => import("./opt-outs.ts").then(({ runOptOuts }) => runOptOuts({ ...program.opts(), ...options })));
}
