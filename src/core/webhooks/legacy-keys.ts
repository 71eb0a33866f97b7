import type Stripe from 'stripe';
import type { LegacySource } from '../options/legacy-keys.js';

interface PeerKeys {
  /** Metadata keys holding the merchant's own user id, in precedence order. */
  customerKeys: readonly string[];
  /** Metadata keys holding the peer's click (referral) id. */
  clickIds: readonly string[];
  /** The peer's click id inside a Checkout `client_reference_id`, when its links put one there. */
  clientReferenceId(value: string): string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Only what each tool documents. Dub's `dubCustomerId` is the earlier name of dubCustomerExternalId.
const PEERS: Record<LegacySource, PeerKeys> = {
  dub: {
    customerKeys: ['dubCustomerExternalId', 'dubCustomerId'],
    clickIds: ['dubClickId'],
    clientReferenceId: (value) => (value.startsWith('dub_id_') ? value.slice('dub_id_'.length) : null),
  },
  rewardful: { customerKeys: [], clickIds: ['referral'], clientReferenceId: (value) => (UUID.test(value) ? value : null) },
  affitor: { customerKeys: ['affitor_customer_key'], clickIds: ['affitor_click_id'], clientReferenceId: () => null },
  selgeo: { customerKeys: [], clickIds: ['aff_click_id'], clientReferenceId: (value) => value },
};

/** What the peers' keys on one Stripe object say about the buyer. */
export interface LegacyEvidence {
  /** The merchant's user id under a peer's key, when none of our own keys gave one. */
  customerKey: string | null;
  /** The peers' click ids, in precedence order: they count only if the clicks table has them (imported). */
  clickIds: string[];
}

const NONE: LegacyEvidence = { customerKey: null, clickIds: [] };

// Values reach a query only as text Postgres can hold (no NUL or other control characters) and no
// longer than a Stripe metadata value; anything else is no evidence rather than a failed event.
const PLAIN = /^[^\p{Cc}]{1,500}$/u;
const plain = (value: unknown): value is string => typeof value === 'string' && PLAIN.test(value);

/**
 * Reads the enabled peers' keys from an object's metadata (several, for an invoice: its
 * subscription's, then its own) and its `client_reference_id`. Never throws: an unknown or odd
 * value is simply no evidence.
 */
export function readLegacyKeys(
  sources: readonly LegacySource[],
  metadata: ReadonlyArray<Stripe.Metadata | null | undefined>,
  clientReferenceId?: string | null,
): LegacyEvidence {
  if (sources.length === 0) return NONE;
  const peers = sources.map((source) => PEERS[source]);
  const values = (keys: (peer: PeerKeys) => readonly string[]) =>
    metadata.flatMap((entries) => peers.flatMap((peer) => keys(peer).map((key) => entries?.[key]))).filter(plain);
  const fromReference = clientReferenceId ? peers.map((peer) => peer.clientReferenceId(clientReferenceId)).filter(plain) : [];
  return { customerKey: values((peer) => peer.customerKeys)[0] ?? null, clickIds: [...new Set([...values((peer) => peer.clickIds), ...fromReference])] };
}
