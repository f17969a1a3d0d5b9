/**
 * The floor under the table: bench/floor-server.js (the durable echo loop with none of
 * RapidSMS's code, on the same parts) under each of the table's loads, in the same run and the
 * same way as the server: its start to the first 200 and idle RSS, the closed loop, 1,000 msg/s
 * and the steady light rate. A row whose target is below its floor cannot be met by any code on
 * this machine with these parts.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/support/free-port.ts";
import { closedLoop, fixedRate, inboundPath, nextNumber } from "./load.ts";
import { memoryMiB, meter, now, perMessage, START_FLAGS, sleep, spawnTracked, type ThreadsCpuMs } from "./processes.ts";
import type { Summary } from "./report.ts";
import { type Context, endToEnd, errorRate, perSecond } from "./scenarios.ts";
import { firstOk } from "./startup.ts";

const SERVER = fileURLToPath(new URL("./floor-server.js", import.meta.url));

export interface FloorLoad {
  accepted: number;
  delivered: number;
  errorRate: number;
  cpuMsPerMessage: number;
  cpuMsPerMessageByThread: ThreadsCpuMs;
}

export interface FloorResult {
  /** From the spawn to the first 200 of a Kannel MO, fresh database. */
  firstOkMs: number;
  /** VmRSS `startupIdleSeconds` after that 200. */
  idleRssMiB: number;
  closedLoop: FloorLoad & { connections: number; repliesPerSec: number };
  fixedRate: FloorLoad & { rate: number; sustained: boolean; latencyMs: Summary; endToEndMs: Summary };
  steady: FloorLoad & { rate: number; sustained: boolean };
  /** VmHWM at the end: the highest of the three loads. */
  peakRssMiB: number;
}

export async function floor(context: Context): Promise<FloorResult> {
  const { settings, fake, log, dir } = context;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawnedAt = now();
  const child = spawnTracked(process.execPath, [...START_FLAGS, SERVER, join(dir, "floor.db"), fake.url, String(port)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  try {
    log(`floor: the durable echo loop with no code of ours (bench/floor-server.js): start, ${settings.startupIdleSeconds} s idle`);
    const n = nextNumber();
    const { okAt } = await firstOk(port, inboundPath(n), running);
    await fake.replies([n], settings.stallMs);
    await sleep(okAt + settings.startupIdleSeconds * 1000 - now());
    const idleRssMiB = memoryMiB(child.pid!, "VmRSS");

    log(`floor: closed loop, ${settings.connections} connections, ${settings.warmupSeconds} s warm-up, ${settings.seconds} s measured`);
    await fake.repliesTo(await closedLoop(url, "inbound", settings.connections, settings.warmupSeconds), settings.stallMs);
    let reading = meter(child.pid!);
    const closed = await closedLoop(url, "inbound", settings.connections, settings.seconds);
    const closedArrivals = await fake.repliesTo(closed, settings.stallMs);
    let used = reading();
    let lastAt = closed.startedAt + closed.durationMs;
    for (const at of closedArrivals.values()) lastAt = Math.max(lastAt, at);
    const closedLoopResult = {
      connections: settings.connections,
      repliesPerSec: perSecond(closedArrivals.size, lastAt - closed.startedAt),
      accepted: closed.ok,
      delivered: closedArrivals.size,
      errorRate: errorRate(closed),
      cpuMsPerMessage: used.cpuMs / closed.ok,
      cpuMsPerMessageByThread: perMessage(used.threads, closed.ok),
    };

    log(`floor: ${settings.rate} msg/s, ${settings.warmupSeconds} s warm-up, ${settings.rateSeconds} s measured`);
    await fake.repliesTo(await fixedRate(url, inboundPath, settings.rate, settings.warmupSeconds), settings.stallMs);
    reading = meter(child.pid!);
    const paced = await fixedRate(url, inboundPath, settings.rate, settings.rateSeconds);
    const pacedArrivals = await fake.repliesTo(paced, settings.stallMs);
    used = reading();
    const fixedRateResult = {
      rate: settings.rate,
      sustained: paced.sustained,
      latencyMs: paced.latencyMs,
      endToEndMs: endToEnd(paced, pacedArrivals),
      accepted: paced.ok,
      delivered: pacedArrivals.size,
      errorRate: errorRate(paced),
      cpuMsPerMessage: used.cpuMs / paced.ok,
      cpuMsPerMessageByThread: perMessage(used.threads, paced.ok),
    };

    log(`floor: ${settings.steadyRate} msg/s, ${settings.steadyWarmupSeconds} s warm-up, ${settings.steadySeconds} s measured`);
    await fake.repliesTo(await fixedRate(url, inboundPath, settings.steadyRate, settings.steadyWarmupSeconds), settings.stallMs);
    reading = meter(child.pid!);
    const light = await fixedRate(url, inboundPath, settings.steadyRate, settings.steadySeconds);
    const lightArrivals = await fake.repliesTo(light, settings.stallMs);
    used = reading();
    return {
      firstOkMs: okAt - spawnedAt,
      idleRssMiB,
      closedLoop: closedLoopResult,
      fixedRate: fixedRateResult,
      steady: {
        rate: settings.steadyRate,
        sustained: light.sustained,
        accepted: light.ok,
        delivered: lightArrivals.size,
        errorRate: errorRate(light),
        cpuMsPerMessage: used.cpuMs / light.ok,
        cpuMsPerMessageByThread: perMessage(used.threads, light.ok),
      },
      peakRssMiB: memoryMiB(child.pid!, "VmHWM"),
    };
  } catch (error) {
    if (!running()) throw new Error(`floor: bench/floor-server.js exited (${child.exitCode ?? child.signalCode})`, { cause: error });
    throw error;
  } finally {
    child.kill("SIGKILL");
  }
}
