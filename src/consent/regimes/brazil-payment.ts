/**
 * Open Finance Brasil payment consents (Payments API 4.0.0): one consent authorises exactly one
 * payment and is consumed by it. Every move records why a consent ended (the spec's rejectionReason).
 *
 *   createConsent (expirationDateTime = creation + 5 min)
 *        │
 *        ▼
 *   AWAITING_AUTHORISATION ──approve──► AUTHORISED ──consume──► CONSUMED
 *        │                  (expiration = approval + 60 min)      (the payment was accepted; final)
 *        │ deny            USER   REJEITADO_USUARIO
 *        │ rejectStale     ASPSP  TEMPO_EXPIRADO_AUTORIZACAO  (5 minutes without authorisation)
 *        │ expire          ASPSP  TEMPO_EXPIRADO_AUTORIZACAO
 *        │ terminateByTpp  TPP    NAO_INFORMADO
 *        ▼                                  │
 *     REJECTED ◄────────────────────────────┘
 *                 expire          ASPSP  TEMPO_EXPIRADO_CONSUMO  (60 minutes without a payment)
 *                 revokeByPsu     USER   NAO_INFORMADO
 *                 terminateByTpp  TPP    NAO_INFORMADO
 *
 *   awaiting: AWAITING_AUTHORISATION · active: AUTHORISED · ended: REJECTED, CONSUMED
 *   REJECTED revokes the consent's tokens; CONSUMED lets the payment's token live out its lifetime (it can
 *   only replay its payment's answer: tokensOutlive below).
 *   A caller may record a more precise rejection with the move (the customer's chosen debtor account is
 *   the creditor's: CONTAS_ORIGEM_DESTINO_IGUAIS; a CPF mismatch at approval: NAO_INFORMADO by ASPSP).
 *
 * It shares AWAITING_AUTHORISATION / AUTHORISED / REJECTED with br-data-sharing, with the same kinds
 * (./index.ts checks that); CONSUMED is its own.
 */
import { PAYMENT_CONSUMPTION_SECONDS, validateBrPaymentConsentRequest } from '../br-payment.ts';
import { defineRegime } from '../regime.ts';
import type { Rejection } from '../types.ts';

export const BR_PAYMENT_STATUSES = ['AWAITING_AUTHORISATION', 'AUTHORISED', 'CONSUMED', 'REJECTED'] as const;
export type BrPaymentStatus = (typeof BR_PAYMENT_STATUSES)[number];

/** The spec's consent rejection reasons (EnumConsentRejectionReasonType). */
export const BR_PAYMENT_REJECTION_CODES = [
  'VALOR_INVALIDO',
  'NAO_INFORMADO',
  'FALHA_INFRAESTRUTURA',
  'TEMPO_EXPIRADO_AUTORIZACAO',
  'TEMPO_EXPIRADO_CONSUMO',
  'REJEITADO_USUARIO',
  'CONTAS_ORIGEM_DESTINO_IGUAIS',
  'CONTA_NAO_PERMITE_PAGAMENTO',
  'SALDO_INSUFICIENTE',
  'VALOR_ACIMA_LIMITE',
  'QRCODE_INVALIDO',
] as const;
export type BrPaymentRejectionCode = (typeof BR_PAYMENT_REJECTION_CODES)[number];

/** The spec's `detail` for each reason, in its words. */
export const BR_PAYMENT_REJECTION_DETAILS: Record<BrPaymentRejectionCode, string> = {
  VALOR_INVALIDO: 'O valor enviado não é válido para o QR Code informado.',
  NAO_INFORMADO: 'Não informada pela detentora de conta.',
  FALHA_INFRAESTRUTURA: 'Falha na infraestrutura da detentora.',
  TEMPO_EXPIRADO_AUTORIZACAO: 'Consentimento expirou antes que o usuário pudesse confirmá-lo.',
  TEMPO_EXPIRADO_CONSUMO: 'O usuário não finalizou o fluxo de pagamento e o consentimento expirou.',
  REJEITADO_USUARIO: 'O usuário rejeitou a autorização do consentimento.',
  CONTAS_ORIGEM_DESTINO_IGUAIS: 'A conta selecionada é igual à conta destino e não permite realizar esse pagamento.',
  CONTA_NAO_PERMITE_PAGAMENTO: 'A conta selecionada não permite realizar esse pagamento.',
  SALDO_INSUFICIENTE: 'A conta selecionada não possui saldo suficiente para realizar o pagamento.',
  VALOR_ACIMA_LIMITE: 'O valor ultrapassa o limite estabelecido para permitir a realização de transações pelo cliente.',
  QRCODE_INVALIDO: 'O QRCode utilizado para a iniciação de pagamento não é válido.',
};

const rejected = (rejectedBy: Rejection['rejectedBy'], code: BrPaymentRejectionCode) =>
  ({ to: 'REJECTED', rejection: { rejectedBy, reason: { code, additionalInformation: BR_PAYMENT_REJECTION_DETAILS[code] } } }) as const;

export const brazilPayment = defineRegime({
  id: 'br-payment',
  statuses: BR_PAYMENT_STATUSES,
  initial: 'AWAITING_AUTHORISATION',
  moves: {
    approve: { AWAITING_AUTHORISATION: { to: 'AUTHORISED' } },
    deny: { AWAITING_AUTHORISATION: rejected('USER', 'REJEITADO_USUARIO') },
    terminateByTpp: {
      AWAITING_AUTHORISATION: rejected('TPP', 'NAO_INFORMADO'),
      AUTHORISED: rejected('TPP', 'NAO_INFORMADO'),
    },
    revokeByPsu: { AUTHORISED: rejected('USER', 'NAO_INFORMADO') },
    expire: {
      AWAITING_AUTHORISATION: rejected('ASPSP', 'TEMPO_EXPIRADO_AUTORIZACAO'),
      AUTHORISED: rejected('ASPSP', 'TEMPO_EXPIRADO_CONSUMO'),
    },
    rejectStale: { AWAITING_AUTHORISATION: rejected('ASPSP', 'TEMPO_EXPIRADO_AUTORIZACAO') },
    /** the payment was accepted: the consent is used up */
    consume: { AUTHORISED: { to: 'CONSUMED' } },
  },
  awaiting: ['AWAITING_AUTHORISATION'],
  active: ['AUTHORISED'],
  ended: ['REJECTED', 'CONSUMED'],
  expired: [],
  consentTypes: { 'br-payment': { validate: validateBrPaymentConsentRequest } },
  // AUTHORISED lasts 60 minutes: expirationDateTime = statusUpdateDateTime + 60 min
  activeWindowSeconds: PAYMENT_CONSUMPTION_SECONDS,
  // the payment's token is not revoked by CONSUMED: a retry of POST /pix/payments with the same
  // x-idempotency-key gets the first answer again; with any other key, 422 CONSENTIMENTO_INVALIDO
  // (the spec's check 2.2.2.5). Reading and cancelling take client_credentials; nothing else takes it.
  tokensOutlive: ['CONSUMED'],
});
