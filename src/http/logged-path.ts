/**
 * A request path as it may be logged: path segments that can carry personal data are replaced by their
 * name. Today one: the Opus back-office's `…/search-key/{searchKey}` (a search key may be a CPF or an
 * account number). Ids (consent, authorisation, interaction) are not personal and stay.
 */
const PERSONAL_SEGMENTS: ReadonlyArray<readonly [RegExp, string]> = [[/(\/search-key\/)[^/]*/g, '$1{searchKey}']];

export function loggedPath(path: string): string {
  let out = path;
  for (const [pattern, replacement] of PERSONAL_SEGMENTS) out = out.replace(pattern, replacement);
  return out;
}
