/**
 * Bench target for bench/validate.ts: Assent on Redis (+ MongoDB-wire when MONGODB_URI is set) with a
 * consent approved through the real flow. Prints `READY <origin> <json>` with what the requests need:
 * the PSU's access token, the TPP's Basic credentials (introspection) and the internal Basic credentials
 * (validation). frequencyPerDay is set to 10⁹ in the database after approval, so every validation runs the usage counter and stays valid.
 */
import { makeSecretClient, startTestServer } from '../../test/support/assent.ts';
import { ALICE, accountsBody, decideWithoutBrowser, exchangeCode, startFlow } from '../../test/support/tpp.ts';

const internalApi = { username: 'bench-gateway', password: 'bench-gateway-password-123' };
const tpp = makeSecretClient('bench-validate-tpp');
// frequencyPerDay above the production bound (consent.maxFrequencyPerDay) so that every call stays valid
const server = await startTestServer({ clients: [tpp.config], internalApi, logLevel: 'warn', consent: { sweepIntervalSeconds: 0, maxFrequencyPerDay: 10_000 } });
const flow = await startFlow(server, tpp, accountsBody([ALICE.salary, ALICE.savings], { frequencyPerDay: 10_000 }));
const back = await decideWithoutBrowser(server, flow);
// then a limit no run reaches (the API bounds frequencyPerDay, the domain does not), before any validation reads it
await server.assent.stores.db!.collection('consents').updateOne({ _id: flow.consentId as never }, { $set: { frequencyPerDay: 1_000_000_000 } });
const tokens = await exchangeCode(server, tpp, back.searchParams.get('code')!, flow.verifier);
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const info = {
  issuer: server.issuer,
  accessToken: tokens.json.access_token,
  consentId: flow.consentId,
  tppAuth: basic(tpp.clientId, tpp.secret!),
  internalAuth: basic(internalApi.username, internalApi.password),
};
process.stdout.write(`READY ${server.url} ${JSON.stringify(info)}\n`);
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
