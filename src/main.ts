/**
 * The process: read config → build stores → build app → listen; graceful shutdown on SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig } from '../config/load.ts';
import { createLogger } from './log.ts';
import { startAssent } from './server.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`assent: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}

const log = createLogger(config.logLevel);
try {
  const assent = await startAssent(config, log);
  log.info({ url: assent.url, issuer: config.issuer, mode: config.mode, profile: config.profile }, 'assent listening');
  if (config.mode === 'demo') {
    log.warn(`DEMO MODE: try the flow at ${new URL('/demo-tpp', config.issuer).href}; demo credentials are in README.md`);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await assent.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
} catch (err) {
  log.fatal({ error: (err as Error).message }, 'assent could not start');
  process.exit(1);
}
