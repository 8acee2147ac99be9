/**
 * The Payments API 4.0.0 error catalogue and renderer: `{ errors: [{ code, title, detail }], meta:
 * { requestDateTime } }`. 4xx other than 422 are JSON (ResponseError); 422s are the operation's own
 * catalogue (422ResponseErrorCreateConsent, …CreatePixPayment, at most 3 errors) and, like every
 * success, go out signed (routes.ts signs them on the way out). Titles are the spec's Portuguese; details
 * say which rule or field, never the input.
 */
import { ConsentExpired, ConsentNotFound, ConsentRefused, ConsentStateConflict } from '../../consent/errors.ts';
import { ExtensionUnavailable } from '../../steps/extensions/client.ts';
import type { RenderedError } from '../../http/dialect-errors.ts';
import { SignedMessageError } from '../../signing/signed-messages.ts';
import { renderError as renderBrError } from '../brazil/errors.ts';
import { ofbDateTime } from '../brazil/time.ts';

const CATALOGUE = {
  badRequest: { status: 400, code: 'PARAMETRO_INVALIDO', title: 'Parâmetro inválido' },
  missingParameter: { status: 400, code: 'PARAMETRO_NAO_INFORMADO', title: 'Parâmetro não informado' },
  BAD_SIGNATURE: { status: 400, code: 'BAD_SIGNATURE', title: 'Assinatura inválida' },
  INVALID_CLIENT: { status: 403, code: 'INVALID_CLIENT', title: 'Cliente inválido' },
  forbidden: { status: 403, code: 'PROIBIDO', title: 'Acesso proibido' },
  notFound: { status: 404, code: 'NAO_ENCONTRADO', title: 'Recurso não encontrado' },
  methodNotAllowed: { status: 405, code: 'METODO_NAO_PERMITIDO', title: 'Método não permitido' },
  notAcceptable: { status: 406, code: 'NAO_ACEITAVEL', title: 'Formato de resposta não suportado' },
  unsupportedMediaType: { status: 415, code: 'FORMATO_NAO_SUPORTADO', title: 'Formato da requisição não suportado' },
  // 422: the codes of the operations' own catalogues (titles as the spec gives them)
  FORMA_PAGAMENTO_INVALIDA: { status: 422, code: 'FORMA_PAGAMENTO_INVALIDA', title: 'Forma de pagamento inválida.' },
  DATA_PAGAMENTO_INVALIDA: { status: 422, code: 'DATA_PAGAMENTO_INVALIDA', title: 'Data de pagamento inválida.' },
  DETALHE_PAGAMENTO_INVALIDO: { status: 422, code: 'DETALHE_PAGAMENTO_INVALIDO', title: 'Detalhe do pagamento inválido.' },
  PARAMETRO_NAO_INFORMADO: { status: 422, code: 'PARAMETRO_NAO_INFORMADO', title: 'Parâmetro não informado.' },
  PARAMETRO_INVALIDO: { status: 422, code: 'PARAMETRO_INVALIDO', title: 'Parâmetro inválido.' },
  ERRO_IDEMPOTENCIA: { status: 422, code: 'ERRO_IDEMPOTENCIA', title: 'Erro idempotência.' },
  NAO_INFORMADO: { status: 422, code: 'NAO_INFORMADO', title: 'Não informado.' },
  CONSENTIMENTO_INVALIDO: { status: 422, code: 'CONSENTIMENTO_INVALIDO', title: 'Consentimento inválido.' },
  PAGAMENTO_DIVERGENTE_CONSENTIMENTO: { status: 422, code: 'PAGAMENTO_DIVERGENTE_CONSENTIMENTO', title: 'Divergência entre pagamento e consentimento.' },
  PAGAMENTO_NAO_PERMITE_CANCELAMENTO: { status: 422, code: 'PAGAMENTO_NAO_PERMITE_CANCELAMENTO', title: 'Pagamento não permite cancelamento.' },
  internal: { status: 500, code: 'ERRO_INTERNO', title: 'Erro interno' },
} as const satisfies Record<string, { status: number; code: string; title: string }>;

export type PaymentsErrorName = keyof typeof CATALOGUE;

/** A known error of the dialect; `details` one per problem. */
export class PaymentsError extends Error {
  override name = 'PaymentsError';
  readonly kind: PaymentsErrorName;
  readonly details: string[];
  readonly headers: Record<string, string>;
  constructor(kind: PaymentsErrorName, details?: string | string[], headers: Record<string, string> = {}) {
    const list = details === undefined ? [] : Array.isArray(details) ? details : [details];
    super(list[0] ?? CATALOGUE[kind].title);
    this.kind = kind;
    this.details = list;
    this.headers = headers;
  }
}

export function render(kind: PaymentsErrorName, details: string[] = [], headers: Record<string, string> = {}): RenderedError {
  const entry = CATALOGUE[kind];
  const max = entry.status === 422 ? 3 : 13;
  const errors = (details.length ? details : [entry.title]).slice(0, max).map((detail) => ({ code: entry.code, title: entry.title, detail: detail.slice(0, 2048) }));
  return { status: entry.status, headers, body: { errors, meta: { requestDateTime: ofbDateTime(new Date()) } } };
}

export function renderError(err: unknown): RenderedError | undefined {
  if (err instanceof PaymentsError) return render(err.kind, err.details, err.headers);
  if (err instanceof SignedMessageError) return render(err.code, [err.message]);
  if (err instanceof ConsentNotFound) return render('notFound');
  // a creation check (the bank's rules) refused it: the spec's "other reason" code, the check's words
  if (err instanceof ConsentRefused) return render('NAO_INFORMADO', err.issues.map((i) => i.message));
  // the spec defines no 503/504 here: a bank extension that cannot answer fails the request (500), said so
  if (err instanceof ExtensionUnavailable) return render('internal', ["the bank's check of this request did not answer; try again"], { 'Retry-After': '1' });
  // the shared Open Finance Brasil checks (tokens, FAPI headers): their 4xx in the same format, minus meta's paging
  if (err instanceof ConsentExpired || err instanceof ConsentStateConflict) return render('CONSENTIMENTO_INVALIDO', ['the consent is not in a status that allows this']);
  const shared = renderBrError(err);
  if (!shared) return undefined;
  const body = shared.body as { errors: unknown[]; meta: { requestDateTime: string } } | undefined;
  return body ? { ...shared, body: { errors: body.errors, meta: { requestDateTime: body.meta.requestDateTime } } } : shared;
}

export const renderInternalError = (): RenderedError => render('internal');
