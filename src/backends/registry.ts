import { registerEngine } from "./engines.ts";
import { DatabaseBackend } from "./database/index.ts";
import { HttpBackend } from "./http/index.ts";
import { KannelBackend } from "./kannel/index.ts";
import { HttpTesterBackend } from "./message-tester/index.ts";
import { VumiBackend } from "./vumi/index.ts";

/** The shipped engines: one line per backend. */
export const shippedEngines = [HttpBackend, DatabaseBackend, HttpTesterBackend, KannelBackend, VumiBackend];

for (const engine of shippedEngines) registerEngine(engine);
