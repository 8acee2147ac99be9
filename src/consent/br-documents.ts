/**
 * Brazilian person and company documents: CPF (11 digits, two mod-11 check digits) and CNPJ (14
 * characters: 12 alphanumeric since the 2026 format, then two numeric check digits; each character
 * counts as its ASCII code minus 48, so the numeric CNPJ is the special case of digits only).
 */

const CPF = /^\d{11}$/;
const CNPJ = /^[0-9A-Z]{12}\d{2}$/;

function checkDigit(values: number[], firstWeight: number, cycle?: number): number {
  let sum = 0;
  let weight = firstWeight;
  for (const value of values) {
    sum += value * weight;
    weight = cycle !== undefined && weight === 2 ? cycle : weight - 1;
  }
  const rest = sum % 11;
  return rest < 2 ? 0 : 11 - rest;
}

/** An 11-digit CPF whose check digits are right (and not one digit repeated, which passes mod 11). */
export function isValidCpf(cpf: string): boolean {
  if (!CPF.test(cpf) || /^(\d)\1{10}$/.test(cpf)) return false;
  const digits = [...cpf].map(Number);
  const first = checkDigit(digits.slice(0, 9), 10);
  const second = checkDigit(digits.slice(0, 10), 11);
  return digits[9] === first && digits[10] === second;
}

/** A 14-character CNPJ (numeric or alphanumeric) whose check digits are right. */
export function isValidCnpj(cnpj: string): boolean {
  if (!CNPJ.test(cnpj) || /^(\d)\1{13}$/.test(cnpj)) return false;
  const values = [...cnpj].map((c) => c.charCodeAt(0) - 48);
  // weights 5,4,3,2,9,8,…,2 for the first digit; 6,5,…,2,9,…,2 for the second
  const first = checkDigit(values.slice(0, 12), 5, 9);
  const second = checkDigit(values.slice(0, 13), 6, 9);
  return values[12] === first && values[13] === second;
}
