import type Stripe from 'stripe';
import { importOptional } from '../kernel/optional-dependency.js';
import type { ResolvedOptions } from '../options/options.js';
import { InvalidValueError } from '../kernel/errors.js';
import { HANDLED_EVENT_TYPES } from './event-handlers.js';
import type { WebhookResponse } from './response.js';

export type { WebhookResponse };

/** Stripe's own default: a signature older than five minutes is a replay. */
const TOLERANCE_SECONDS = 300;

type Webhooks = Pick<Stripe['webhooks'], 'constructEvent'>;

async function webhooksOf(options: ResolvedOptions): Promise<Webhooks> {
  if (options.stripe) return options.stripe.webhooks;
  const { default: StripeClass } = await importOptional('stripe', 'Verifying Stripe webhooks', () => import('stripe'));
  return (StripeClass as unknown as { webhooks: Webhooks }).webhooks;
}

/**
 * Verifies a Stripe webhook delivery with the stripe SDK against every configured secret (several
 * during a rotation). `rawBody` must be the exact bytes Stripe sent: a re-serialised JSON body
 * never verifies. A bad signature, a stale timestamp or a malformed body answers 400 and writes
 * nothing.
 */
export async function verifyWebhook(
  options: ResolvedOptions,
  rawBody: string | Uint8Array,
  signature: string | null | undefined,
): Promise<{ event: Stripe.Event } | { response: WebhookResponse }> {
  if (options.webhookSecrets.length === 0) {
    return {
      response: {
        status: 500,
        body: { error: 'No Stripe webhook secret is configured: set webhookSecret (or STRIPE_WEBHOOK_SECRET) to your endpoint’s whsec_… secret' },
      },
    };
  }
  const size = typeof rawBody === 'string' ? Buffer.byteLength(rawBody) : rawBody instanceof Uint8Array ? rawBody.byteLength : 0;
  if (size > options.webhooks.maxBodyBytes) return { response: webhookBodyTooLarge(options) };
  if (!signature) return { response: { status: 400, body: { error: 'Missing Stripe-Signature header' } } };
  if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) {
    return { response: { status: 400, body: { error: 'Missing webhook body' } } };
  }
  const payload = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  // constructEvent refuses only timestamps too old: one too far ahead is a forged or replayed header
  // carried forward (or a clock far off), and would stay "fresh" until long after it was captured.
  const future = signedAt(signature) - Date.now() / 1000;
  if (future > TOLERANCE_SECONDS) {
    return { response: { status: 400, body: { error: `Webhook signature verification failed: its timestamp is ${Math.round(future)} s in the future (tolerance ${TOLERANCE_SECONDS} s); check this server's clock` } } };
  }
  const webhooks = await webhooksOf(options);
  let failure: unknown;
  for (const secret of options.webhookSecrets) {
    try {
      return { event: webhooks.constructEvent(payload, signature, secret, TOLERANCE_SECONDS) };
    } catch (error) {
      failure = error;
    }
  }
  const message = failure instanceof Error ? failure.message : String(failure);
  // constructEvent parses the body only once the signature matched.
  const what = failure instanceof SyntaxError ? 'Malformed webhook body' : 'Webhook signature verification failed';
  return { response: { status: 400, body: { error: `${what}: ${message}` } } };
}

/** The `t=` of a Stripe-Signature header, or -Infinity without one (left for constructEvent to refuse). */
function signedAt(signature: string): number {
  const t = /(?:^|,)\s*t=(\d+)/.exec(signature)?.[1];
  return t === undefined ? Number.NEGATIVE_INFINITY : Number(t);
}

/**
 * Whether processing failed because the signed payload is not shaped like the Stripe object it
 * names (a field of the wrong type, a missing object or number, an amount that is no integer, a value
 * Postgres refuses as data), rather than through a failure on our side.
 */
export function isMalformedPayload(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError || error instanceof InvalidValueError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  // Data exceptions, and a NOT NULL or CHECK constraint refusing a value the payload lacked; a
  // unique violation (23505) is a race with a concurrent delivery instead, and is retried.
  return typeof code === 'string' && (code.startsWith('22') || code === '23502' || code === '23514');
}

/**
 * What makes a signed body unlike any event Stripe sends, or null. Checked before anything is
 * written: the envelope, and the scalar fields every Stripe object shares by name (ids and
 * currencies are strings, `livemode` is a boolean, amounts and times are integers, metadata values
 * are strings), so a hand-made or corrupted payload gets a clear 400 instead of a failure deep in
 * the ledger that Stripe would retry for days.
 */
export function malformedEvent(event: Stripe.Event): string | null {
  // A body of literally `null` (or any JSON that is not an object) verifies like any other.
  if (!isRecord(event)) return 'the event must be a JSON object';
  const envelope = event as unknown as Record<string, unknown>;
  if (typeof envelope.id !== 'string' || typeof envelope.type !== 'string') return 'the event needs a string id and type';
  // Unknown types are answered 200 and ignored, whatever they hold.
  if (!HANDLED_EVENT_TYPES.includes(envelope.type)) return null;
  if (!Number.isSafeInteger(envelope.created)) return 'created must be a Unix timestamp';
  if (typeof envelope.livemode !== 'boolean') return 'livemode must be a boolean';
  const object = (envelope.data as { object?: unknown } | null | undefined)?.object;
  if (!isRecord(object) || typeof object.object !== 'string' || typeof object.id !== 'string') return 'data.object must be a Stripe object, with its id';
  for (const [key, value] of Object.entries(object)) {
    if (value === null || value === undefined) continue;
    if ((key === 'id' || key === 'currency' || key === 'object') && typeof value !== 'string') return `data.object.${key} must be a string`;
    if (key === 'livemode' && typeof value !== 'boolean') return 'data.object.livemode must be a boolean';
    if (INTEGER_FIELD.test(key) && !Array.isArray(value) && !Number.isSafeInteger(value)) return `data.object.${key} must be an integer`;
    if (key === 'metadata' && !(isRecord(value) && Object.values(value).every((v) => typeof v === 'string'))) return 'data.object.metadata must map keys to strings';
    if (ID_FIELD.test(key) && typeof value !== 'string' && !(isRecord(value) && typeof value.id === 'string')) return `data.object.${key} must be an id or an expanded object`;
  }
  return impossibleAmounts(object);
}

/** An ISO 4217 code, as Stripe writes it. */
const CURRENCY = /^[a-z]{3}$/i;

/**
 * Amounts no Stripe object can hold together, refused before anything is written (a sale of 1e15
 * from an untaxed total over the total, a negative sale from tax over the total): Stripe computes
 * these fields itself, so such a payload is hand-made or corrupted, and a 400 says so once instead
 * of a 5xx retried for days or a 200 that records nonsense.
 */
function impossibleAmounts(object: Record<string, unknown>): string | null {
  const conversion = isRecord(object.currency_conversion) ? object.currency_conversion : undefined;
  for (const [where, currency] of [['currency', object.currency], ['currency_conversion.source_currency', conversion?.source_currency]] as const) {
    if (currency !== undefined && currency !== null && (typeof currency !== 'string' || !CURRENCY.test(currency))) {
      return `data.object.${where} must be a three-letter ISO currency code`;
    }
  }
  const amount = (value: unknown) => (typeof value === 'number' ? value : undefined);
  switch (object.object) {
    case 'checkout.session': {
      const total = amount(object.amount_total);
      const tax = amount(isRecord(object.total_details) ? object.total_details.amount_tax : undefined);
      if (total !== undefined && total < 0) return 'data.object.amount_total cannot be negative';
      if (tax !== undefined && (tax < 0 || (total !== undefined && tax > total))) return 'data.object.total_details.amount_tax must be between 0 and amount_total';
      if (conversion && !(Number.isSafeInteger(conversion.amount_total) && (conversion.amount_total as number) >= 0)) {
        return 'data.object.currency_conversion.amount_total must be a non-negative integer';
      }
      return null;
    }
    case 'invoice': {
      const total = amount(object.total);
      const untaxed = amount(object.total_excluding_tax);
      if (total !== undefined && untaxed !== undefined && untaxed > total) return 'data.object.total_excluding_tax cannot exceed total';
      return null;
    }
    case 'charge': {
      const charged = amount(object.amount);
      const refunded = amount(object.amount_refunded);
      if ((charged !== undefined && charged < 0) || (refunded !== undefined && (refunded < 0 || (charged !== undefined && refunded > charged)))) {
        return 'data.object.amount_refunded must be between 0 and amount, which cannot be negative';
      }
      return null;
    }
    case 'dispute':
      return (amount(object.amount) ?? 0) < 0 ? 'data.object.amount cannot be negative' : null;
    default:
      return null;
  }
}

/** Amounts, counts and times: integers wherever Stripe sends them (`total_details` is an object, `total_taxes` and the like lists). */
const INTEGER_FIELD = /^(?!.*_details$)(amount(_[a-z]+)*|total(_[a-z]+)*|subtotal(_[a-z]+)*|created|quantity|post_payment_amount|pre_payment_amount)$/;
/** Fields holding another object's id (or, expanded, the object). */
const ID_FIELD = /^(customer|payment_intent|invoice|subscription|charge)$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The answer to a webhook body larger than `webhooks.maxBodyBytes`. */
export function webhookBodyTooLarge(options: ResolvedOptions): WebhookResponse {
  return {
    status: 413,
    body: { error: `The webhook body exceeds ${options.webhooks.maxBodyBytes} bytes (webhooks.maxBodyBytes); a Stripe event is far smaller` },
  };
}
