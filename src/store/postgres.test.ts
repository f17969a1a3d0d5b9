import { after, before, describe } from "node:test";
import { POSTGRES_MISSING, startPostgres, type PostgresServer } from "../../test/support/postgres.ts";
import { openPostgresStore } from "./postgres.ts";
import { metricsContract } from "./metrics.contract.ts";
import { storeContract } from "./store.contract.ts";

describe("PostgreSQL store", { skip: POSTGRES_MISSING }, () => {
  let server: PostgresServer;
  let databases = 0;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());

  storeContract("postgres", async () => openPostgresStore(await server.createDatabase(`contract_${databases++}`)));
  metricsContract("postgres", async () => openPostgresStore(await server.createDatabase(`contract_${databases++}`)));
});
