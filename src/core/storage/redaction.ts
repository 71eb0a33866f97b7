/** What identifies a forgotten customer in a stored Stripe payload, and what replaces it. */
export interface Redaction {
  /** Lower-cased; removed wherever they occur in a string (`receipt_email`, a description). */
  emails: readonly string[];
  /** A string that is exactly one of these (`customer_details.name`) becomes null. */
  names: readonly string[];
  /** The merchant's user ids (`metadata.sa_customer_key`), each with the tombstone that replaces it. */
  externalIds: ReadonlyMap<string, string | null>;
}

/** The external id a forgotten customer keeps: unique, says what happened, and derives nothing from the person. */
export const FORGOTTEN_PREFIX = 'forgotten:';

/**
 * A copy of a Stripe payload (a parked event) without the forgotten customer's personal data;
 * `undefined` when nothing in it was theirs. Ids and amounts are left alone, so the event still
 * applies to the same sale when its counterpart arrives.
 */
export function redactPayload(payload: unknown, redaction: Redaction): unknown {
  let changed = false;
  const emails = redaction.emails.filter(Boolean).map((email) => new RegExp(email.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'));
  const names = new Set(redaction.names.filter(Boolean));
  const redactString = (value: string): string | null => {
    const tombstone = redaction.externalIds.get(value);
    if (tombstone !== undefined) return tombstone;
    if (names.has(value)) return null;
    const redacted = emails.reduce((text, email) => text.replace(email, ''), value);
    return redacted === value || redacted.trim() !== '' ? redacted : null;
  };
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const redacted = redactString(value);
      if (redacted !== value) changed = true;
      return redacted;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, walk(inner)]));
    return value;
  };
  const result = walk(payload);
  return changed ? result : undefined;
}
