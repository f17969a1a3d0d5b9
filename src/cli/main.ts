import { Command, InvalidArgumentError, Option } from "commander";
import { ConfigError, RapidSmsError } from "../errors.ts";
import { optOutCommands } from "./opt-out-commands.ts";

// Each command loads what it needs when it runs: `start` does not load the CSV reader of `send`
// or the database tools of `migrate`, and starts sooner.

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("expected a port number from 0 to 65535");
  return n;
}

function milliseconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number of milliseconds");
  return n;
}

/** Not a variadic option: `--to 111 hello` must leave `hello` as the text. */
function identities(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((identity) => identity.trim())
      .filter(Boolean),
  ];
}

export function buildCli(): Command {
  const program = new Command("rapidsms")
    .description("RapidSMS.ts: SMS backends, router and apps")
    .option("-c, --config <path>", "config file (default: RAPIDSMS_CONFIG, then ./rapidsms.config.{ts,js,json}, then the embedded default)")
    .showHelpAfterError();

  program
    .command("start")
    .description("run the server: inbound endpoints for every backend, the router, the apps")
    .option("-p, --port <n>", "port to listen on (default: PORT, then the config, then 8000)", port)
    .option("--host <host>", "address to listen on (default: HOST, then the config, then 127.0.0.1)")
    .addOption(new Option("--role <role>", "web: HTTP only; worker: processing and sending only; all: both").choices(["web", "worker", "all"]).default("all"))
    .option("--shutdown-timeout <ms>", "how long stopping waits for work under way before giving it back to other workers (default 30000)", milliseconds)
    .option("--metrics-port <n>", "with --role worker: serve /metrics and /healthz on this port (0: any free one, logged)", port)
    .action(async (options) => {
      // The store thread boots (some 50 ms of Node's own) while the rest of the start loads.
      const storeThread = (await import("../store/sqlite-thread.ts")).startStoreThread();
      return (await import("./start.ts")).runStart({ ...program.opts(), ...options }, storeThread);
    });

  program
    .command("send")
    .description("send a message through an installed backend: to numbers, every member of a group, or every number in a CSV file; now, or --at a time")
    .option("-b, --backend <name>", "installed backend to send through (with --group: only members' connections on it)")
    .option("-t, --to <identity>", "recipient identity; repeat --to or separate identities with commas for several", identities)
    .option("-g, --group <name>", "send to every member of this group (its name or id), each at their own connection")
    .option("-f, --file <csv>", "send to every number in a CSV file (a phone, identity or number column, or the first), through --backend")
    .option("--at <time>", "send then, not now: ISO 8601 with a time zone (2026-12-24T08:00:00+03:00); the server (rapidsms start) sends it")
    .option("--wait", "with --file: send from here too and wait for the outcomes (default: queue only, the server sends)")
    .option("--send-again", "with --file: queue again what an earlier run of the same command queued")
    .argument("<text>", "message text")
    .action(async (text: string, options) => (await import("./messages.ts")).runSend({ ...program.opts(), ...options, text }));

  program
    .command("receive")
    .description("simulate an inbound message and print the replies")
    .requiredOption("-b, --backend <name>", "backend the message arrives on")
    .requiredOption("-f, --from <identity>", "sender identity")
    .argument("<text>", "message text")
    .action(async (text: string, options) => (await import("./messages.ts")).runReceive({ ...program.opts(), ...options, text }));

  program
    .command("backends")
    .description("list the installed backends, their engines and inbound URLs")
    .action(async () => (await import("./backends.ts")).runBackends(program.opts()));

  optOutCommands(program);

  program
    .command("init")
    .description("create a new project in DIR: package.json, rapidsms.config.ts, an app with its test, a README")
    .argument("<dir>", "the new project's folder (must not exist, or be empty)")
    .action(async (dir: string) => (await import("./init.ts")).runInit(dir));

  program
    .command("migrate")
    .description("create or upgrade the database schema (start does this too)")
    .action(async () => (await import("./migrate.ts")).runMigrate(program.opts()));

  program
    .command("bench")
    .description("benchmark this checkout: the server on SQLite under load, replies to a fake Kannel, against a bare node:http baseline (docs/performance.md)")
    .option("--quick", "short runs for CI: fails only if a number is not sane, never on speed")
    .option("--soak", "only a long steady inbound run (10 minutes; 30 s with --quick) watching the server's RSS")
    .option("--rate <n>", "msg/s of the fixed-rate run (default 1000; 500 with --quick) and of the soak (default 200)")
    .option("--steady-rate <n>", "msg/s of the steady light-load run (default 150)")
    .option("--only <scenarios>", "run these scenarios alone, comma-separated: startup, baseline, store, inbound, fixed-rate, steady, outbound, smpp")
    .option("--from <code>", "what the server runs: dist (the build, as users install it; the default) or sources")
    .option("--synchronous <mode>", "the server's SQLite sync: full (the default, as npm start runs) or normal")
    .option("--metrics <on|off>", "the server's metrics setting (default on)")
    .option("--out <path>", "where to write the JSON results (default bench/results/<time>.json)")
    .action(async (options) => (await import("./bench.ts")).runBenchCommand(options));

  return program;
}

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync([...argv]);
  } catch (error) {
    // What the user must fix gets one line, not a stack trace.
    if (error instanceof RapidSmsError) {
      process.stderr.write(`rapidsms: ${error.message}\n`);
      process.exit(error instanceof ConfigError ? 2 : 1);
    }
    throw error;
  }
}

if (import.meta.main) await main();
