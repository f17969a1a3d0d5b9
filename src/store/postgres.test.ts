import { after, before, describe } from "node:test";
import { POSTGRES_MISSING, startPostgres, type PostgresServer } from "../../test/support/postgres.ts";
import { openPostgresStore } from "./postgres.ts";
import { scheduledContract } from "./scheduled.contract.ts";
import { metricsContract } from "./metrics.contract.ts";
import { storeContract } from "./store.contract.ts";
import { retentionContract } from "./retention.contract.ts";
import { optOutsContract } from "./opt-outs.contract.ts";
import { webhooksContract } from "./webhooks.contract.ts";
import { messageLogContract } from "./message-log.contract.ts";

describe("PostgreSQL store", { skip: POSTGRES_MISSING }, () => {
  let server: PostgresServer;
  let databases = 0;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());

  storeContract("postgres", async () => openPostgresStore(await server.createDatabase(`contract_${databases++}`)));
  retentionContract("postgres", async () => openPostgresStore(await server.createDatabase(`contract_${databases++}`)));
  optOutsContract("postgres", async () => openPostgresStore(await server.createDatabase(`opt_outs_${databases++}`)));
  scheduledContract("postgres", async () => openPostgresStore(await server.createDatabase(`contract_${databases++}`)));
  webhooksContract("postgres", async () => openPostgresStore(await server.createDatabase(`contract_${databases++}`)));
  messageLogContract("postgres", async () => openPostgresStore(await server.createDatabase(`contract_${databases++}`)));
  metricsContract("postgres", async () => openPostgresStore(await server.createDatabase(`contract_${databases++}`)));
});
