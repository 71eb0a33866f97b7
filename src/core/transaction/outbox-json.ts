/**
 * How an event's payload survives its trip through the outbox (jsonb). Dates and bigints are
 * tagged on the way in (`{"$date": iso}`, `{"$bigint": "123"}`), so `on()` handlers receive the
 * same types that were raised; outgoing webhooks receive plain JSON (ISO strings, decimal strings).
 */
export function encodePayload(payload: unknown): string {
  return JSON.stringify(payload, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    if (raw instanceof Date) return { $date: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
    if (typeof raw === 'bigint') return { $bigint: raw.toString() };
    return value;
  });
}

/** The payload as it was raised: Dates and bigints restored. */
export function decodePayload(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => untag(value, (iso) => (iso === null ? new Date(Number.NaN) : new Date(iso)), (digits) => BigInt(digits)));
}

/** The payload as plain JSON text for other services: Dates as ISO strings, bigints as decimal strings. */
export function plainPayload(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => untag(value, (iso) => iso, (digits) => digits));
}

function untag(value: unknown, date: (iso: string | null) => unknown, bigint: (digits: string) => unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1) return value;
  const record = value as Record<string, unknown>;
  if (keys[0] === '$date' && (typeof record.$date === 'string' || record.$date === null)) return date(record.$date as string | null);
  if (keys[0] === '$bigint' && typeof record.$bigint === 'string') return bigint(record.$bigint);
  return value;
}
