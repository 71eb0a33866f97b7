import { AsyncLocalStorage } from 'node:async_hooks';
import type { Application, Commission, Customer, FraudFlag, Payout, Sale, Storage, StorageOperations } from '../storage/types.js';

/** What `attribution.on(...)` handlers receive, by event name. */
export interface AttributionEvents {
  /** A customer was credited to a partner for the first time. */
  'lead.created': { customer: Customer };
  /** A sale was recorded (attributed or not). */
  'sale.created': { sale: Sale };
  /** A commission (sale, lead or clawback) was created. */
  'commission.created': { commission: Commission };
  /** A commission was voided: fully refunded, lost dispute, or by hand. */
  'commission.voided': { commission: Commission };
  /** Someone applied to be a partner (a pending partner, their chosen code reserved). */
  'partner.applied': { application: Application };
  /** An application was approved: the partner is active and their code attributes. */
  'partner.approved': { application: Application };
  /** An application was rejected: its code is released. */
  'partner.rejected': { application: Application };
  /** A fraud rule flagged a new commission: it is held until cleared or voided (`commissions.review`). */
  'commission.flagged': { commission: Commission; flags: FraudFlag[] };
  /** A payout was made of approved commissions (by `payouts.create` or `payouts.run`). */
  'payout.created': { payout: Payout };
  /** A payout was paid: marked paid by hand, or its Stripe transfer went through (`payout.transferId`). */
  'payout.paid': { payout: Payout };
  /**
   * A payout's transfer did not go through; the payout stays payable with `payout.transferError`.
   * `refused`: Stripe said no (nothing moved); otherwise the outcome is unknown until the next try.
   */
  'payout.failed': { payout: Payout; error: string; refused: boolean };
  /** A partner's connected account can now receive transfers (`account.updated`). */
  'partner.payouts_enabled': { partnerId: string; stripeAccountId: string };
}

export type AttributionEventName = keyof AttributionEvents;
type Handler<K extends AttributionEventName> = (payload: AttributionEvents[K]) => void | Promise<void>;
type Pending = { [K in AttributionEventName]: [K, AttributionEvents[K]] }[AttributionEventName];

/** Events raised (and work queued) inside the transaction running now, delivered only once it commits. */
const outbox = new AsyncLocalStorage<Array<Pending | AfterCommit>>();
type AfterCommit = { during: string; run: () => Promise<unknown> };

/** Raises an event from inside a transaction (`runTransaction`); outside one it is a no-op. */
export function emit<K extends AttributionEventName>(name: K, payload: AttributionEvents[K]): void {
  outbox.getStore()?.push([name, payload] as Pending);
}

/**
 * Queues work that must not run inside the open transaction (a call to Stripe's API): it runs
 * once the transaction has committed, never when it rolls back, and a failure is reported through
 * `onError` (the ledger is already committed). Outside a transaction (`runTransaction`) it is a no-op.
 */
export function afterCommit(during: string, run: () => Promise<unknown>): void {
  outbox.getStore()?.push({ during, run });
}

/**
 * The instance's hook registry. Handlers run after the transaction that raised their event has
 * committed, in order; one that throws is reported through `onError` and never undoes, repeats
 * or loses ledger data. A rolled-back transaction delivers nothing.
 */
export class Hooks {
  readonly #handlers = new Map<AttributionEventName, Handler<any>[]>();

  constructor(private readonly onError: (error: unknown, during: string) => void) {}

  on<K extends AttributionEventName>(name: K, handler: Handler<K>): () => void {
    const list = this.#handlers.get(name) ?? [];
    list.push(handler);
    this.#handlers.set(name, list);
    return () => {
      const index = list.indexOf(handler);
      if (index >= 0) list.splice(index, 1);
    };
  }

  /** `storage.transaction(fn)`, delivering the events it raised once it committed. Reached through `transaction/run.ts`. */
  async transaction<T>(storage: Storage, fn: (tx: StorageOperations) => Promise<T>): Promise<T> {
    const raised: Array<Pending | AfterCommit> = [];
    const result = await outbox.run(raised, () => storage.transaction(fn));
    for (const item of raised) {
      if (!Array.isArray(item)) {
        try {
          await item.run();
        } catch (error) {
          this.onError(error, item.during);
        }
        continue;
      }
      const [name, payload] = item;
      for (const handler of this.#handlers.get(name) ?? []) {
        try {
          await handler(payload);
        } catch (error) {
          this.onError(error, `the ${name} hook`);
        }
      }
    }
    return result;
  }
}
