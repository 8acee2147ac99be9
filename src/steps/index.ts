/**
 * The step plugin API, importable by package name: `import { StepError, type RetrievalStep } from
 * 'assent/steps'` (package.json `exports`). The testing helpers are `assent/steps/testing`.
 * See docs/plugins.md.
 */
export {
  StepError,
  STEP_ERROR_CODES,
  type StepErrorCode,
  type Locale,
  type StepClient,
  type StepInteraction,
  type DisplayPermission,
  type DisplayAccount,
  type Notice,
  type ConsentPageData,
  type RetrievalContext,
  type PersistContext,
  type Decision,
  type RetrievalStep,
  type PersistStep,
} from './contracts.ts';
export { DEFAULT_PRIORITIES } from './defaults.ts';
export { StepOutputError } from './output.ts';
export type { Consent, ConsentType, GrantedAccount } from '../consent/types.ts';
export type { Psu, PsuAccount } from '../psu/directory.ts';
