/**
 * Starts @vercel/cosmosdb-server over plain HTTP with keep-alive, which its CLI cannot: the CLI's
 * server answers every request with `connection: close`, so each Cosmos request of the app paid
 * a new loopback connection (connect, socket set-up and teardown on both sides: about a tenth of
 * the host's CPU per order). The real service keeps connections open, as the Cosmos SDK expects.
 *
 * Usage: node cosmosdb-server.js [--host 127.0.0.1] [--port 0]; prints the CLI's ready line.
 * Plain JavaScript so that it starts without a TypeScript loader.
 */
'use strict';
const { createHttpServer } = require('@vercel/cosmosdb-server');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const host = option('--host', '127.0.0.1');
const port = Number(option('--port', '0'));

const server = createHttpServer({ keepAlive: true });
// Longer than any client keeps an idle connection, so an idle connection is never closed under a request.
server.keepAliveTimeout = 130_000;
server.listen(port, host, () => {
  const address = server.address();
  console.log(`Ready to accept HTTP connections at ${host}:${address.port}`);
});
