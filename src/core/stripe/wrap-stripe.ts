import type Stripe from 'stripe';
import { enrichCheckoutSession, enrichMetadata, type EnrichmentSource } from './enrich.js';

type Params = Record<string, unknown>;
type Enrich = (params: Params, source: EnrichmentSource) => Params;

/**
 * The request options stripe-node accepts in place of params (`customers.create({ idempotencyKey })`).
 * Kept in step with stripe-node's own list: such an object is options, never params to enrich.
 */
const REQUEST_OPTION_KEYS = new Set([
  'apiKey', 'idempotencyKey', 'stripeAccount', 'apiVersion', 'maxNetworkRetries', 'timeout', 'apiBase',
  'authenticator', 'stripeContext', 'headers', 'additionalHeaders', 'streaming', 'host',
]);

function isRequestOptions(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0 &&
    Object.keys(value).every((key) => REQUEST_OPTION_KEYS.has(key));
}

/** The `create` methods the wrapper enriches, by resource path. */
const ENRICHED: Record<string, Enrich> = {
  'checkout.sessions': enrichCheckoutSession,
  customers: enrichMetadata,
  subscriptions: enrichMetadata,
  paymentIntents: enrichMetadata,
};

/**
 * A view of the merchant's own Stripe client whose `create` calls above carry the attribution.
 * Only those public resource methods are wrapped (with `this` bound to the real resource); every
 * other property, method and request option passes through, and the original client is untouched.
 */
export function wrapStripe<T extends Stripe>(stripe: T, source: () => EnrichmentSource): T {
  return proxyResource(stripe, '', source) as T;
}

function proxyResource(target: object, path: string, source: () => EnrichmentSource): object {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(resource, property) {
      const value: unknown = Reflect.get(resource, property);
      if (typeof property !== 'string') return value;
      if (cache.has(property)) return cache.get(property);
      const childPath = path ? `${path}.${property}` : property;
      let wrapped: unknown = value;
      if (property === 'create' && typeof value === 'function' && ENRICHED[path]) {
        const enrich = ENRICHED[path];
        const method = value as (...args: unknown[]) => unknown;
        wrapped = function create(params?: unknown, ...rest: unknown[]) {
          if (params === undefined || isRequestOptions(params)) {
            const enriched = enrich({}, source());
            return Object.keys(enriched).length === 0
              ? method.call(resource, params, ...rest)
              : method.call(resource, enriched, ...(params === undefined ? rest : [params, ...rest]));
          }
          return method.call(resource, enrich(params as Params, source()), ...rest);
        };
      } else if (value && typeof value === 'object' && Object.keys(ENRICHED).some((p) => p === childPath || p.startsWith(`${childPath}.`))) {
        wrapped = proxyResource(value, childPath, source);
      } else {
        return value;
      }
      cache.set(property, wrapped);
      return wrapped;
    },
  });
}
