import { after, before, describe } from "node:test";
import { POSTGRES_MISSING, startPostgres, type PostgresServer } from "../../test/support/postgres.ts";
import { REDIS_MISSING, startRedis, type RedisServer } from "../../test/support/redis.ts";
import { silentLogger } from "../logger.ts";
import { openPostgresStore } from "../store/postgres.ts";
import { BullmqQueue } from "./bullmq.ts";
import { queueContract } from "./queue.contract.ts";

describe("BullMQ queue on Redis, with PostgreSQL", { skip: REDIS_MISSING || POSTGRES_MISSING }, () => {
  let redis: RedisServer;
  let postgres: PostgresServer;
  let databases = 0;
  before(async () => {
    [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  });
  after(async () => {
    await redis?.stop();
    await postgres?.stop();
  });

  queueContract("BullMQ queue", async (shared) => {
    const n = databases++;
    const store = shared ?? openPostgresStore(await postgres.createDatabase(`queue_${n}`));
    if (!shared) await store.migrate();
    // Each test gets its own Redis database, so that queues of one test never reach the next.
    return { store, queue: new BullmqQueue(`${redis.url}/${shared ? databases - 2 : n}`, silentLogger) };
  });
});
