/**
 * The steady light load (150 msg/s, far below saturation) and the server's idle cost: what the
 * CPU costs on an ordinary day, when most of the time no message arrives at all. Measured twice:
 * in the server's first seconds, and again once a burst of the closed loop has had V8 compile
 * the hot code (at 150 msg/s that takes longer than the bench runs: a server that has run for a
 * while is past it).
 */
import { closedLoop, fixedRate, helloPath, inboundPath } from "./load.ts";
import { forkChild, memoryMiB, meter, now, perMessage, type ServerChild, sleep, type ThreadsCpuMs } from "./processes.ts";
import type { Summary } from "./report.ts";
import { type Context, endToEnd, errorRate, perSecond, withServer } from "./scenarios.ts";

/** The steady rate again, after `warmupSeconds` of the closed loop. */
export interface WarmSteadyPass {
  warmupSeconds: number;
  sustained: boolean;
  accepted: number;
  delivered: number;
  errorRate: number;
  cpuMsPerMessage: number;
  cpuMsPerMessageByThread: ThreadsCpuMs;
  latencyMs: Summary;
  endToEndMs: Summary;
}

export interface SteadyResult {
  rate: number;
  seconds: number;
  /** The server's CPU over `idleSeconds` of no load (after the warm-up), in ms per second. */
  idleCpuMsPerSec: number;
  idleSeconds: number;
  sustained: boolean;
  achievedPerSec: number;
  accepted: number;
  delivered: number;
  errorRate: number;
  /** The server's CPU from the first request to the last reply, per accepted message. */
  cpuMsPerMessage: number;
  /** `cpuMsPerMessage` by kind of thread. */
  cpuMsPerMessageByThread: ThreadsCpuMs;
  serverCores: number;
  latencyMs: Summary;
  endToEndMs: Summary;
  rssMiB: number;
  peakRssMiB: number;
  /**
   * The node:http hello world under the same open loop at the same rate, CPU per request: what one
   * HTTP exchange costs at this rate on this machine, where each request wakes the process alone.
   */
  helloCpuMsPerRequest: number;
  warm: WarmSteadyPass;
}

/** The hello world's CPU per request at `rate` req/s, after a warm-up as long as the server's. */
async function helloAtRate(rate: number, warmupSeconds: number, seconds: number): Promise<number> {
  const hello = await forkChild("./hello-server.ts");
  const url = `http://127.0.0.1:${hello.port}`;
  try {
    await fixedRate(url, helloPath, rate, warmupSeconds);
    const reading = meter(hello.pid);
    const load = await fixedRate(url, helloPath, rate, seconds);
    return reading().cpuMs / load.ok;
  } finally {
    hello.child.kill("SIGKILL");
  }
}

export async function steady(context: Context): Promise<SteadyResult> {
  const { settings, fake, log } = context;
  const rate = settings.steadyRate;
  log(`steady: the hello world at ${rate} req/s, ${settings.steadySeconds} s`);
  const helloCpuMsPerRequest = await helloAtRate(rate, settings.steadyWarmupSeconds, settings.steadySeconds);
  return withServer(context, "steady", async (server) => {
    log(`steady: ${rate} msg/s, ${settings.steadyWarmupSeconds} s warm-up, ${settings.idleSeconds} s idle, ${settings.steadySeconds} s measured`);
    const warm = await fixedRate(server.url, inboundPath, rate, settings.steadyWarmupSeconds);
    await fake.repliesTo(warm, settings.stallMs);
    const idleFrom = now();
    const idle = meter(server.pid);
    await sleep(settings.idleSeconds * 1000);
    const idleCpuMs = idle().cpuMs;
    const idleMs = now() - idleFrom;
    const reading = meter(server.pid);
    const load = await fixedRate(server.url, inboundPath, rate, settings.steadySeconds);
    const arrivals = await fake.repliesTo(load, settings.stallMs);
    const used = reading();
    const rssMiB = memoryMiB(server.pid, "VmRSS");
    const again = await warmPass(context, server);
    return {
      rate,
      seconds: settings.steadySeconds,
      idleCpuMsPerSec: (idleCpuMs * 1000) / idleMs,
      idleSeconds: settings.idleSeconds,
      sustained: load.sustained,
      achievedPerSec: perSecond(load.ok, load.durationMs),
      accepted: load.ok,
      delivered: arrivals.size,
      errorRate: errorRate(load),
      cpuMsPerMessage: used.cpuMs / load.ok,
      cpuMsPerMessageByThread: perMessage(used.threads, load.ok),
      serverCores: used.cores,
      latencyMs: load.latencyMs,
      endToEndMs: endToEnd(load, arrivals),
      rssMiB,
      peakRssMiB: used.peakRssMiB,
      helloCpuMsPerRequest,
      warm: { ...again, warmupSeconds: settings.steadyJitWarmupSeconds },
    };
  });
}

/** The closed loop for `steadyJitWarmupSeconds`, a second of rest, the rate for its warm-up, then the rate measured again. */
async function warmPass(context: Context, server: ServerChild): Promise<Omit<WarmSteadyPass, "warmupSeconds">> {
  const { settings, fake, log } = context;
  const { url } = server;
  const rate = settings.steadyRate;
  log(`steady: ${settings.steadyJitWarmupSeconds} s of the closed loop, then ${rate} msg/s again, ${settings.steadySeconds} s measured`);
  await fake.repliesTo(await closedLoop(url, "inbound", settings.connections, settings.steadyJitWarmupSeconds), settings.stallMs);
  await sleep(1_000);
  await fake.repliesTo(await fixedRate(url, inboundPath, rate, settings.steadyWarmupSeconds), settings.stallMs);
  const reading = meter(server.pid);
  const load = await fixedRate(url, inboundPath, rate, settings.steadySeconds);
  const arrivals = await fake.repliesTo(load, settings.stallMs);
  const used = reading();
  return {
    sustained: load.sustained,
    accepted: load.ok,
    delivered: arrivals.size,
    errorRate: errorRate(load),
    cpuMsPerMessage: used.cpuMs / load.ok,
    cpuMsPerMessageByThread: perMessage(used.threads, load.ok),
    latencyMs: load.latencyMs,
    endToEndMs: endToEnd(load, arrivals),
  };
}
