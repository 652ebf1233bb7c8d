import { createServer } from 'node:http';

/** Baseline for resolve-hot: the cheapest possible server answering a fixed JSON of the same size. */
const body = process.env.BODY ?? '{"twins":["00000000-0000-4000-8000-000000000000"]}';
const port = Number(process.env.PORT ?? 8090);
createServer((_req, res) => {
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}).listen(port, '127.0.0.1');
