import pg from "pg";
import { createRapidSms } from "rapidsms-ts/express";

/** RapidSMS in the host app's own PostgreSQL, beside the host's tables. */
export async function rapidsmsInHostDatabase(connectionString: string, sendsmsUrl = "http://127.0.0.1:13013/cgi-bin/sendsms") {
  const pool = new pg.Pool({ connectionString });
  const sms = await createRapidSms(
    { installedBackends: { kannel: { engine: "kannel", sendsmsUrl } }, tablePrefix: "rapidsms_" },
    { database: pool }, // or your Kysely instance on PostgreSQL
  );
  return { sms, pool };
}
