/**
 * How objects created through the wrapped Stripe client carry the attribution (DESIGN.md §2).
 * Pure functions of their input: the same call always yields the same parameters, because Stripe
 * rejects an idempotency key reused with different parameters.
 */

/** What the current request (or the caller) knows. */
export interface EnrichmentSource {
  clickId: string | null;
  customerKey: string | null;
  /** The program the object belongs to (`sa_program_id`), when it is known and worth saying. */
  programId?: string | null;
}

type Params = Record<string, unknown>;
type Metadata = Record<string, unknown>;

/** Stripe's limits: beyond them the API call fails, so keys are skipped rather than sent. */
const MAX_METADATA_KEYS = 50;
const MAX_METADATA_VALUE = 500;

/**
 * Adds our keys to a metadata object without overwriting the merchant's: a key the merchant set
 * (even to '' — which unsets it at Stripe) stays as it is.
 */
function withKeys(metadata: unknown, keys: Record<string, string | null>): Metadata | undefined {
  const merged: Metadata = metadata && typeof metadata === 'object' ? { ...(metadata as Metadata) } : {};
  let changed = false;
  for (const [key, value] of Object.entries(keys)) {
    if (value === null || key in merged) continue;
    if (value.length > MAX_METADATA_VALUE || Object.keys(merged).length >= MAX_METADATA_KEYS) continue;
    merged[key] = value;
    changed = true;
  }
  return changed ? merged : undefined;
}

function attributionKeys(source: EnrichmentSource): Record<string, string | null> {
  return { sa_click_id: source.clickId, sa_customer_key: source.customerKey, sa_program_id: source.programId ?? null };
}

function hasAttribution(source: EnrichmentSource): boolean {
  return source.clickId !== null || source.customerKey !== null || (source.programId ?? null) !== null;
}

/** `customers.create`, `subscriptions.create`, `paymentIntents.create`: the metadata keys. */
export function enrichMetadata(params: Params, source: EnrichmentSource): Params {
  if (!hasAttribution(source)) return params;
  const metadata = withKeys(params.metadata, attributionKeys(source));
  return metadata ? { ...params, metadata } : params;
}

/** `checkout.sessions.create`. */
export function enrichCheckoutSession(params: Params, source: EnrichmentSource): Params {
  if (!hasAttribution(source)) return params;
  const enriched: Params = enrichMetadata(params, source);
  const empty = (value: unknown) => value === undefined || value === null || value === '';
  if (source.clickId !== null && empty(params.client_reference_id)) enriched.client_reference_id = source.clickId;

  if (params.mode === 'subscription') {
    const data = (params.subscription_data ?? {}) as Params;
    const metadata = withKeys(data.metadata, attributionKeys(source));
    if (metadata) enriched.subscription_data = { ...data, metadata };
  } else if (params.mode === 'payment') {
    // Stripe copies nothing from the session to its payment intent: these keys are what let a
    // refund or dispute on the charge be traced, and `sa_via` tells its payment_intent.succeeded
    // apart from a direct payment.
    const data = (params.payment_intent_data ?? {}) as Params;
    const metadata = withKeys(data.metadata, { ...attributionKeys(source), sa_via: 'checkout' });
    if (metadata) enriched.payment_intent_data = { ...data, metadata };
    // A guest payment creates no Customer unless asked, leaving refunds and repeat purchases untied.
    if (empty(params.customer) && params.customer_creation === undefined) enriched.customer_creation = 'always';
  }
  return enriched;
}

/** Stripe's rule for `client_reference_id`: it silently drops anything else. */
const CLIENT_REFERENCE_ID = /^[A-Za-z0-9_-]{1,200}$/;

export function isValidClientReferenceId(value: string): boolean {
  return CLIENT_REFERENCE_ID.test(value);
}
