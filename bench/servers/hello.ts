/** Bench ceiling: a Koa hello-world answering the same POST. */
import { createServer } from 'node:http';
import Koa from 'koa';

const port = Number(process.env.BENCH_PORT);
const app = new Koa();
app.use((ctx) => {
  ctx.body = { hello: 'world' };
});
const server = createServer(app.callback());
server.listen(port, '127.0.0.1', () => process.stdout.write(`READY http://127.0.0.1:${port}/token\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
