/**
 * Calls one hook of a bank's HTTP extension: authenticates (HTTP Basic, or a client_credentials token
 * fetched from the bank's token URL and reused until shortly before it expires), bounds every attempt by
 * the hook's timeout, retries a failed attempt (network error, timeout, 5xx, malformed answer) up to
 * `retries` times, and checks the answer with zod (schemas.ts). When no attempt gives a valid answer the
 * call throws ExtensionUnavailable: the failure policy is fail closed, the caller refuses what it was
 * about to do. Every attempt is logged with the hook, the attempt number, the outcome and the time taken,
 * never a body, a URL's query, a credential or anything about the customer.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log.ts';
import { requestEnvelope, responseEnvelope, type ExtensionAnswer, type Hook, type RequestData } from './schemas.ts';

export interface ExtensionEndpoint {
  url: string;
  auth:
    | { type: 'basic'; username: string; password: string }
    | { type: 'client_credentials'; tokenUrl: string; clientId: string; clientSecret: string; scope?: string | undefined };
  timeoutMs: number;
  retries: number;
  failurePolicy: 'fail_closed';
}

/** The extension could not give a valid answer in time: fail closed. Says nothing about the answer. */
export class ExtensionUnavailable extends Error {
  override name = 'ExtensionUnavailable';
  readonly hook: Hook;
  constructor(hook: Hook) {
    super(`the ${hook} extension is unavailable`);
    this.hook = hook;
  }
}

type Outcome = { ok: true; answer: unknown } | { ok: false; outcome: string; retry: boolean };

export class ExtensionClient<H extends Hook = Hook> {
  readonly #hook: H;
  readonly #endpoint: ExtensionEndpoint;
  readonly #log: Logger;
  #token: { value: string; until: number } | undefined;

  constructor(hook: H, endpoint: ExtensionEndpoint, log: Logger) {
    this.#hook = hook;
    this.#endpoint = endpoint;
    this.#log = log;
  }

  get hook(): H {
    return this.#hook;
  }

  async call(data: RequestData<H>): Promise<ExtensionAnswer<H>> {
    const requestId = randomUUID();
    const body = JSON.stringify(requestEnvelope(this.#hook).parse({ requestId, hook: this.#hook, data }));
    const attempts = this.#endpoint.retries + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const started = performance.now();
      const result = await this.#attempt(body, requestId);
      const ms = Math.round(performance.now() - started);
      const entry = { extension: this.#hook, requestId, attempt, ms };
      if (result.ok) {
        const answer = result.answer as ExtensionAnswer<H>;
        this.#log.info({ ...entry, outcome: answer.status }, 'extension call');
        return answer;
      }
      this.#log.warn({ ...entry, outcome: result.outcome }, 'extension call failed');
      if (!result.retry) break;
    }
    throw new ExtensionUnavailable(this.#hook);
  }

  async #attempt(body: string, requestId: string): Promise<Outcome> {
    let authorization: string;
    try {
      authorization = await this.#authorization();
    } catch {
      return { ok: false, outcome: 'token_unavailable', retry: true };
    }
    let res: Response;
    try {
      res = await fetch(this.#endpoint.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.#endpoint.timeoutMs),
      });
    } catch (err) {
      return { ok: false, outcome: (err as Error).name === 'TimeoutError' ? 'timeout' : 'network_error', retry: true };
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      return { ok: false, outcome: (err as Error).name === 'TimeoutError' ? 'timeout' : 'network_error', retry: true };
    }
    if (res.status === 401 || res.status === 403) this.#token = undefined;
    if (res.status !== 200) return { ok: false, outcome: `http_${res.status}`, retry: res.status >= 500 || res.status === 401 };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, outcome: 'malformed_answer', retry: true };
    }
    const parsed = responseEnvelope(this.#hook).safeParse(json);
    if (!parsed.success || parsed.data.responseId !== requestId) return { ok: false, outcome: 'malformed_answer', retry: true };
    const answer = parsed.data.status === 'SUCCESS' ? { status: 'SUCCESS', data: parsed.data.data ?? {} } : parsed.data;
    return { ok: true, answer };
  }

  async #authorization(): Promise<string> {
    const auth = this.#endpoint.auth;
    if (auth.type === 'basic') return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    if (this.#token && this.#token.until > Date.now()) return `Bearer ${this.#token.value}`;
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...(auth.scope ? { scope: auth.scope } : {}) });
    const res = await fetch(auth.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64')}`,
      },
      body: form.toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(this.#endpoint.timeoutMs),
    });
    const json = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
    if (res.status !== 200 || typeof json.access_token !== 'string') throw new Error('no token');
    const lifetime = typeof json.expires_in === 'number' ? json.expires_in : 60;
    this.#token = { value: json.access_token, until: Date.now() + Math.max(0, lifetime - 10) * 1000 };
    return `Bearer ${json.access_token}`;
  }
}
