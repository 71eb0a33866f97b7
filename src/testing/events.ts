import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import { T0 } from './objects.js';

/** The API version the builders' shapes follow (Basil and later). */
export const CURRENT_API_VERSION = '2026-10-28.endive';
/**
 * An API version from before Basil (2025-03-31), for endpoints still pinned to it: pair it with
 * the `legacy*` builders, which move fields back where those versions put them.
 */
export const LEGACY_API_VERSION = '2024-06-20';

/** The object an event of type `T` carries in `data.object`. */
export type EventObject<T extends Stripe.Event.Type> = Extract<Stripe.Event, { type: T }>['data']['object'];

export interface EventOptions {
  /** The API version of the webhook endpoint the event is delivered to. Default `CURRENT_API_VERSION`. */
  apiVersion?: string;
  /** Default: a fresh `evt_…` id, so each call is a new event (reuse an event to test a repeat). */
  id?: string;
  /** Stripe's `event.created`, in seconds. Default: one second after the previous event, from `T0`. */
  created?: number;
  /** Default: the object's own `livemode`, else false. */
  livemode?: boolean;
  /** `previous_attributes`, for `*.updated` events. */
  previousAttributes?: Record<string, unknown>;
  /** The connected account the event happened on (`acct_…`), for Connect events such as `account.updated`. */
  account?: string;
}

let sequence = 0;

/**
 * An event as Stripe delivers it. With a known event type the object is checked against the
 * SDK's type for that event; a legacy-shaped object (see `legacyInvoice`) is accepted as it is.
 * A string third argument is the API version.
 */
export function event<T extends Stripe.Event.Type>(type: T, object: EventObject<T>, options?: EventOptions | string): Extract<Stripe.Event, { type: T }>;
export function event<O extends { object: string }>(type: string, object: O, options?: EventOptions | string): Stripe.Event;
export function event(type: string, object: { object: string; livemode?: unknown }, options: EventOptions | string = {}): Stripe.Event {
  const { apiVersion = CURRENT_API_VERSION, id, created, livemode, previousAttributes, account } = typeof options === 'string' ? { apiVersion: options } : options;
  sequence += 1;
  return {
    id: id ?? `evt_${sequence}_${randomBytes(6).toString('hex')}`,
    object: 'event',
    ...(account ? { account } : {}),
    api_version: apiVersion,
    created: created ?? T0 + sequence,
    data: { object, ...(previousAttributes ? { previous_attributes: previousAttributes } : {}) },
    livemode: livemode ?? (typeof object.livemode === 'boolean' ? object.livemode : false),
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  } as unknown as Stripe.Event;
}
