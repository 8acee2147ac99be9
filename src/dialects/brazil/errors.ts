/**
 * The Open Finance Brasil error catalogue and renderer: `{ errors: [{ code, title, detail }], meta:
 * { totalRecords, totalPages, requestDateTime } }` with the statuses and 422 codes of Consents API 3.3.1.
 * Titles are the spec's Portuguese; details say which rule or field, never the input.
 */
import { ConsentExpired, ConsentNotFound, ConsentRefused, ConsentStateConflict, ConsentValidationError } from '../../consent/errors.ts';
import { ExtensionUnavailable } from '../../steps/extensions/client.ts';
import type { BrRuleCode } from '../../consent/br-validation.ts';
import type { RenderedError } from '../../http/dialect-errors.ts';
import { TokenError } from '../../oidc/oauth.ts';
import { ofbDateTime } from './time.ts';

export type { RenderedError };

const CATALOGUE = {
  badRequest: { status: 400, code: 'PARAMETRO_INVALIDO', title: 'Parâmetro inválido' },
  missingParameter: { status: 400, code: 'PARAMETRO_NAO_INFORMADO', title: 'Parâmetro não informado' },
  unauthorized: { status: 401, code: 'NAO_AUTORIZADO', title: 'Não autorizado' },
  forbidden: { status: 403, code: 'PROIBIDO', title: 'Acesso proibido' },
  notFound: { status: 404, code: 'NAO_ENCONTRADO', title: 'Consentimento não encontrado' },
  methodNotAllowed: { status: 405, code: 'METODO_NAO_PERMITIDO', title: 'Método não permitido' },
  notAcceptable: { status: 406, code: 'NAO_ACEITAVEL', title: 'Formato de resposta não suportado' },
  unsupportedMediaType: { status: 415, code: 'FORMATO_NAO_SUPORTADO', title: 'Formato da requisição não suportado' },
  COMBINACAO_PERMISSOES_INCORRETA: { status: 422, code: 'COMBINACAO_PERMISSOES_INCORRETA', title: 'Combinação de permissões incorreta' },
  PERMISSAO_PF_PJ_EM_CONJUNTO: { status: 422, code: 'PERMISSAO_PF_PJ_EM_CONJUNTO', title: 'Permissões PF e PJ em conjunto' },
  INFORMACOES_PJ_NAO_INFORMADAS: { status: 422, code: 'INFORMACOES_PJ_NAO_INFORMADAS', title: 'Informações PJ não informadas' },
  DATA_EXPIRACAO_INVALIDA: { status: 422, code: 'DATA_EXPIRACAO_INVALIDA', title: 'Data de expiração inválida' },
  // a creation check (the bank's rules, e.g. the pre_process_consent_creation extension) refused it
  ERRO_NAO_MAPEADO: { status: 422, code: 'ERRO_NAO_MAPEADO', title: 'Erro não mapeado' },
  alreadyRejected: { status: 422, code: 'CONSENTIMENTO_EM_STATUS_REJEITADO', title: 'Consentimento em status rejeitado' },
  invalidState: { status: 422, code: 'ESTADO_CONSENTIMENTO_INVALIDO', title: 'Estado inválido do consentimento' },
  tooManyRequests: { status: 429, code: 'LIMITE_REQUISICOES_EXCEDIDO', title: 'Limite de requisições excedido' },
  internal: { status: 500, code: 'ERRO_INTERNO', title: 'Erro interno' },
  // a bank extension the request depends on did not answer validly in time (fail closed)
  gatewayTimeout: { status: 504, code: 'TEMPO_ESGOTADO', title: 'Tempo esgotado' },
} as const satisfies Record<string, { status: number; code: string; title: string }>;

export type BrErrorName = keyof typeof CATALOGUE | BrRuleCode;

/** A known error of the dialect; `details` one per problem (e.g. one per bad field). */
export class BrError extends Error {
  override name = 'BrError';
  readonly kind: BrErrorName;
  readonly details: string[];
  readonly headers: Record<string, string>;
  constructor(kind: BrErrorName, details?: string | string[], headers: Record<string, string> = {}) {
    const list = details === undefined ? [] : Array.isArray(details) ? details : [details];
    super(list[0] ?? CATALOGUE[kind].title);
    this.kind = kind;
    this.details = list;
    this.headers = headers;
  }
}

export function render(kind: BrErrorName, details: string[] = [], headers: Record<string, string> = {}): RenderedError {
  const entry = CATALOGUE[kind];
  const errors = (details.length ? details : [entry.title]).slice(0, 13).map((detail) => ({ code: entry.code, title: entry.title, detail: detail.slice(0, 2048) }));
  return {
    status: entry.status,
    headers,
    body: { errors, meta: { totalRecords: 1, totalPages: 1, requestDateTime: ofbDateTime(new Date()) } },
  };
}

const REALM = 'Bearer realm="open-banking"';

export function renderError(err: unknown): RenderedError | undefined {
  if (err instanceof BrError) return render(err.kind, err.details, err.headers);
  if (err instanceof ConsentRefused) return render('ERRO_NAO_MAPEADO', err.issues.map((i) => i.message));
  if (err instanceof ExtensionUnavailable) return render('gatewayTimeout', ["the bank's check of this request did not answer; try again"], { 'Retry-After': '1' });
  if (err instanceof ConsentValidationError) {
    return render('badRequest', err.issues.map((i) => `${i.path || 'body'}: ${i.message}`));
  }
  if (err instanceof TokenError) {
    if (err.problem === 'insufficient_scope') return render('forbidden', [err.message]);
    const challenge = err.problem === 'missing' ? REALM : `${REALM}, error="invalid_token"`;
    return render('unauthorized', [err.message], { 'WWW-Authenticate': challenge });
  }
  if (err instanceof ConsentNotFound) return render('notFound');
  if (err instanceof ConsentExpired) return render('invalidState', ['the consent has expired']);
  if (err instanceof ConsentStateConflict) return render('invalidState', [err.lostRace ? 'the consent changed meanwhile; try again' : 'the consent is not in a status that allows this']);
  return undefined;
}

export const renderInternalError = (): RenderedError => render('internal');
