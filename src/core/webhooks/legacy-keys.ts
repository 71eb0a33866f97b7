import type Stripe from 'stripe';
import { ConfigurationError } from '../errors.js';

/**
 * The hosted attribution tools whose Stripe metadata `legacyKeys` reads, so a merchant moving from
 * one of them keeps the attribution their existing integration still writes (docs/MIGRATING.md).
 */
export const LEGACY_SOURCES = ['dub', 'rewardful', 'affitor', 'selgeo'] as const;
export type LegacySource = (typeof LEGACY_SOURCES)[number];

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

/** The `legacyKeys` option: every peer, some of them, or none. */
export type LegacyKeysOption = boolean | readonly LegacySource[];

export function resolveLegacyKeys(option: LegacyKeysOption | undefined): readonly LegacySource[] {
  if (option === undefined || option === false) return [];
  if (option === true) return LEGACY_SOURCES;
  const unknown = option.filter((source) => !(LEGACY_SOURCES as readonly string[]).includes(source));
  if (unknown.length) {
    throw new ConfigurationError(`legacyKeys: unknown source ${unknown.map((s) => `"${s}"`).join(', ')}; use true or a list of ${LEGACY_SOURCES.map((s) => `"${s}"`).join(', ')}`);
  }
  return [...new Set(option)];
}

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
