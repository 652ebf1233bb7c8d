import { createServer } from 'node:http';
import pg from 'pg';

/**
 * Baseline for resolve-cold: node:http plus one prepared point query per request on the same index the API uses,
 * answering the same JSON shape. What a hand-written service would do, with no cache, auth or framework.
 */
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL ?? 10) });
const port = Number(process.env.PORT ?? 8091);
const SQL = `SELECT i.twin FROM identities i JOIN twins t ON t.uuid = i.twin WHERE i.name = $1`;

createServer((req, res) => {
  const name = decodeURIComponent((req.url ?? '/').split('?')[0].slice('/resolve/'.length));
  pool.query<{ twin: string }>({ name: 'point', text: SQL, values: [name] }).then(
    (r) => {
      const body = JSON.stringify({ twins: r.rows.map((x) => x.twin) });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(body);
    },
    () => {
      res.writeHead(500);
      res.end();
    },
  );
}).listen(port, '127.0.0.1');
