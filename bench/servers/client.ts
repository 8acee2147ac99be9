import type { ClientConfig } from '../../config/schema.ts';

/** The one client every bench target knows: client_credentials with client_secret_basic. */
export const BENCH_CLIENT: ClientConfig = {
  client_id: 'bench-tpp',
  client_secret: 'bench-tpp-secret-0123456789',
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: 'accountinformation',
};

/** The TPP of bench/flow.ts: authorization code flows and client_credentials, client_secret_basic. */
export const FLOW_CLIENT: ClientConfig = {
  client_id: 'bench-flow-tpp',
  client_name: 'Bench TPP',
  client_secret: 'bench-flow-tpp-secret-0123456789',
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  response_types: ['code'],
  redirect_uris: ['https://bench-flow-tpp.example/callback'],
  scope: 'openid offline_access accountinformation',
};
