import { pino, type Logger } from "pino";

export const silentLogger: Logger = pino({ level: "silent" });

export function createLogger(level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ level, base: undefined });
}
