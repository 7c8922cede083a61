/**
 * The HTTP ceiling: Express's hello-world, alone in its own Node process (the bench starts it with the same Node
 * binary and loader as the api), so a SCIM read's throughput can be read as a share of what one Node process answers
 * over HTTP on this machine at all. Prints `ready <port>` once it listens.
 */
import express from 'express';

const app = express();
app.get('/', (_req, res) => {
  res.send('Hello World!');
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`ready ${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
