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
