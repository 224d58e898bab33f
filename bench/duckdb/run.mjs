// Runs one query file (bench/duckdb/*.sql) on DuckDB with one thread over the Nexmark CSV
// files in DATA (bid.csv, auction.csv, person.csv, as flowc writes them), writing its result
// as CSV to OUT in flowc's format (ISO-8601 timestamps in UTC with milliseconds). Prints
//   cpu_seconds=<reading the CSV, the query and writing OUT> wall_seconds=... max_rss_mb=...
// Usage: node run.mjs QUERY.sql DATA OUT
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

const [queryFile, data, out] = process.argv.slice(2);
if (!queryFile || !data || !out) {
  console.error('usage: node run.mjs QUERY.sql DATA OUT');
  process.exit(2);
}
const columns = {
  bid: { auction: 'BIGINT', bidder: 'BIGINT', price: 'BIGINT', channel: 'VARCHAR', url: 'VARCHAR', dateTime: 'TIMESTAMP', extra: 'VARCHAR' },
  auction: { id: 'BIGINT', itemName: 'VARCHAR', description: 'VARCHAR', initialBid: 'BIGINT', reserve: 'BIGINT',
             dateTime: 'TIMESTAMP', expires: 'TIMESTAMP', seller: 'BIGINT', category: 'BIGINT', extra: 'VARCHAR' },
  person: { id: 'BIGINT', name: 'VARCHAR', emailAddress: 'VARCHAR', creditCard: 'VARCHAR', city: 'VARCHAR', state: 'VARCHAR',
            dateTime: 'TIMESTAMP', extra: 'VARCHAR' },
};
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const db = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await db.connect();
await con.run("SET TimeZone = 'UTC'");
// Views: the files are read by the query itself, inside the timed part.
for (const [name, cols] of Object.entries(columns)) {
  const spec = Object.entries(cols).map(([c, t]) => `${quote(c)}: ${quote(t)}`).join(', ');
  await con.run(`CREATE VIEW ${name} AS SELECT * FROM read_csv(${quote(`${data}/${name}.csv`)}, header = true,
                 auto_detect = false, quote = '"', escape = '"', columns = {${spec}})`);
}
const query = readFileSync(queryFile, 'utf8').replace(/;\s*$/, '');
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
await con.run(`COPY (${query}) TO ${quote(out)} (HEADER, DELIMITER ',', TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%gZ')`);
const wall = (performance.now() - wall0) / 1000;
const cpu = process.cpuUsage(cpu0);
con.closeSync();
db.closeSync();
const rss = process.resourceUsage().maxRSS / 1024;
console.log(`cpu_seconds=${((cpu.user + cpu.system) / 1e6).toFixed(3)} wall_seconds=${wall.toFixed(3)} max_rss_mb=${rss.toFixed(0)}`);
