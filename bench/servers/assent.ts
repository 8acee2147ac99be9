/** Bench target: the full Assent app on Redis (child process; prints its URL on stdout). */
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../src/log.ts';
import { startAssent } from '../../src/server.ts';
import { BENCH_CLIENT } from './client.ts';

const port = Number(process.env.BENCH_PORT);
const config = loadConfig({
  env: {},
  overrides: {
    port,
    issuer: `http://127.0.0.1:${port}/connect`,
    redis: { url: process.env.REDIS_URL!, prefix: `bench-assent-${port}:` },
    ...(process.env.MONGODB_URI ? { mongodb: { uri: process.env.MONGODB_URI, database: `bench_${port}` } } : {}),
    clients: [BENCH_CLIENT],
    logLevel: 'warn',
    consent: { sweepIntervalSeconds: 0 },
  },
});
const assent = await startAssent(config, createLogger('warn'));
process.stdout.write(`READY ${assent.url}/connect/token\n`);
process.on('SIGTERM', () => void assent.close().then(() => process.exit(0)));
