import { createHmac, timingSafeEqual } from 'node:crypto';
import { AttributionError } from '../kernel/errors.js';

/** A URL the outbox POSTs every event to (`outgoingWebhooks`), signed with `secret`. */
export interface OutgoingWebhookEndpoint {
  url: string;
  /** Shared with the receiver, at least 32 characters: it verifies `Stripe-Attribution-Signature`. */
  secret: string;
  /** Only these event names. Default: every event. */
  events?: readonly string[];
}

/** What an outgoing webhook's body holds. */
export interface OutgoingWebhookBody {
  /** The event's stable id: dedupe on it, delivery is at least once. */
  id: string;
  type: string;
  /** ISO time the ledger change committed at. */
  created: string;
  /** The payload `on()` handlers receive, as plain JSON (dates as ISO strings). */
  data: unknown;
}

export const SIGNATURE_HEADER = 'stripe-attribution-signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the shape of Stripe's own signature header. */
export function signOutgoingWebhook(body: string, secret: string, now: Date): string {
  const t = Math.floor(now.getTime() / 1000);
  return `t=${t},v1=${mac(secret, t, body)}`;
}

/**
 * Verifies an outgoing webhook in the service receiving it (the raw body as received) and returns
 * the event. Throws when the signature does not match or is more than `toleranceSeconds` (default
 * 300) old or in the future.
 */
export function verifyOutgoingWebhook(body: string, header: string | null | undefined, secret: string, options: { toleranceSeconds?: number; now?: Date } = {}): OutgoingWebhookBody {
  const { toleranceSeconds = 300, now = new Date() } = options;
  const parts = new Map((header ?? '').split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const given = Buffer.from(parts.get('v1') ?? '', 'hex');
  const expected = Buffer.from(mac(secret, t, body), 'hex');
  if (!Number.isSafeInteger(t) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AttributionError('The Stripe-Attribution-Signature header does not match the body');
  }
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) throw new AttributionError('The Stripe-Attribution-Signature timestamp is outside the tolerance');
  return JSON.parse(body) as OutgoingWebhookBody;
}

function mac(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

/** POSTs one event to one endpoint; anything but a 2xx within `timeoutMs` throws (the event is retried). */
export async function postOutgoingWebhook(endpoint: OutgoingWebhookEndpoint, body: string, now: Date, timeoutMs: number): Promise<void> {
  const response = await fetch(endpoint.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signOutgoingWebhook(body, endpoint.secret, now) },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.body?.cancel();
  if (!response.ok) throw new AttributionError(`The outgoing webhook ${endpoint.url} answered ${response.status}`);
}
