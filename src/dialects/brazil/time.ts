/** Open Finance Brasil date-times: RFC 3339 in UTC, whole seconds (`maxLength: 20`). */
export function ofbDateTime(instant: Date): string {
  return instant.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
