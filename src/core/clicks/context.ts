import { AsyncLocalStorage } from 'node:async_hooks';

/** What the current request knows about its visitor's attribution. */
export interface AttributionContext {
  /** The visitor's click id: captured by this request or carried by its cookie. */
  clickId: string | null;
  /** Your id for the signed-in user (`sa_customer_key`), once `trackLead` has run in this request. */
  customerKey?: string | null;
  /** The program of the visitor's click, when this request captured it or `trackLead` looked it up. */
  programId?: string | null;
}

/**
 * One store per process, shared by every attribution instance: the adapters enter it for the rest
 * of the request, so `trackLead` and the wrapped Stripe client find the visitor's click without
 * the merchant passing it along.
 */
const store = new AsyncLocalStorage<AttributionContext>();

export function runInContext<T>(context: AttributionContext, fn: () => T): T {
  return store.run(context, fn);
}

export function currentContext(): AttributionContext | undefined {
  return store.getStore();
}
