import { AsyncLocalStorage } from 'node:async_hooks';
import { newId } from '../kernel/ids.js';
import type { Application, Commission, Customer, FraudFlag, NewOutboxEvent, Payout, Sale, Storage, StorageOperations } from '../storage/types.js';
import { encodePayload } from './outbox-json.js';

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
  /** A pending commission was approved: its hold ended (`approveDue`) or by hand (`approve`). */
  'commission.approved': { commission: Commission };
  /** An approved commission was marked paid by `commissions.markPaid` (a payout's commissions: `payout.paid`). */
  'commission.paid': { commission: Commission };
  /** A paid commission was clawed back: the negative `clawback` commission (also announced as `commission.created`). */
  'commission.clawed_back': { commission: Commission };
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

/** Every event name, for an outgoing webhook that takes them all. */
const EVENT_NAMES: { [K in AttributionEventName]: true } = {
  'lead.created': true,
  'sale.created': true,
  'commission.created': true,
  'commission.voided': true,
  'commission.approved': true,
  'commission.paid': true,
  'commission.clawed_back': true,
  'payout.created': true,
  'payout.paid': true,
  'partner.applied': true,
  'partner.approved': true,
  'partner.rejected': true,
  'commission.flagged': true,
  'payout.failed': true,
  'partner.payouts_enabled': true,
};

/** Delivery details a handler receives with the payload. */
export interface HookEvent {
  /** Stable across redeliveries of the same event: dedupe on it (delivery is at least once). */
  id: string;
  name: string;
  /** 1 on the first delivery attempt. */
  attempt: number;
  /** When the transaction that raised it ran. */
  createdAt: Date;
}

export type Handler<K extends AttributionEventName> = (payload: AttributionEvents[K], event: HookEvent) => void | Promise<void>;

type Raised = Omit<NewOutboxEvent, 'at'>;

/** The events raised inside the transaction running now, written to the outbox before it commits. */
const raising = new AsyncLocalStorage<Raised[]>();

/**
 * Raises an event from inside a transaction (`runTransaction`): it is written to the outbox in that
 * transaction, so it exists exactly when the ledger change it reports does, and is delivered after
 * commit by the outbox worker. Outside a transaction it is a no-op.
 */
export function emit<K extends AttributionEventName>(name: K, payload: AttributionEvents[K]): void {
  enqueue(name, payload, orderingKey(payload));
}

/**
 * Queues the library's own after-commit work (a call to Stripe's API) through the same outbox:
 * `name` is one of the worker's internal handlers, never a hook.
 */
export function enqueue(name: string, payload: unknown, key: string | null): void {
  raising.getStore()?.push({ id: newId('hook'), name, payload: encodePayload(payload), orderingKey: key });
}

/** The customer an event is about: its events are delivered in order. */
function orderingKey(payload: object): string | null {
  // A payout's own events (created, then paid) stay in order; they name no customer.
  if ('payout' in payload && typeof (payload.payout as { id?: unknown } | null)?.id === 'string') return `payout:${(payload.payout as { id: string }).id}`;
  for (const value of Object.values(payload) as unknown[]) {
    if (!value || typeof value !== 'object') continue;
    const record = value as { customerId?: unknown; stripeCustomerId?: unknown; id?: unknown };
    if (typeof record.customerId === 'string') return `customer:${record.customerId}`;
    if ('stripeCustomerId' in record && typeof record.id === 'string' && 'externalId' in record) return `customer:${record.id}`;
  }
  return null;
}

/**
 * The instance's hook registry, and the transaction that writes raised events to the outbox.
 * Handlers are called by the outbox worker (`transaction/outbox.ts`), never inside a transaction.
 */
export class Hooks {
  readonly #handlers = new Map<string, Handler<any>[]>();

  /** Every event name this version raises. */
  readonly eventNames: readonly string[] = Object.keys(EVENT_NAMES);

  constructor(
    private readonly clock: () => Date,
    /** Whether anything in this instance delivers events of this name: only those are written. */
    private readonly wanted: (name: string) => boolean,
    /** Told after a commit that wrote events, so the worker delivers them soon. */
    private readonly onRaised: () => void = () => {},
  ) {}

  /** Names with at least one handler. */
  names(): string[] {
    return [...this.#handlers].filter(([, list]) => list.length > 0).map(([name]) => name);
  }

  on<K extends AttributionEventName>(name: K, handler: Handler<K>): () => void {
    const list = this.#handlers.get(name) ?? [];
    list.push(handler);
    this.#handlers.set(name, list);
    return () => {
      const index = list.indexOf(handler);
      if (index >= 0) list.splice(index, 1);
    };
  }

  handlers(name: string): readonly Handler<any>[] {
    return this.#handlers.get(name) ?? [];
  }

  /**
   * `storage.transaction(fn)`, writing the events it raised to the outbox (one statement) before it
   * commits. Reached through `transaction/run.ts`.
   */
  async transaction<T>(storage: Storage, fn: (tx: StorageOperations) => Promise<T>): Promise<T> {
    let raised: Raised[] = [];
    const result = await storage.transaction((tx) => {
      raised = [];
      return raising.run(raised, async () => {
        const value = await fn(tx);
        const at = this.clock();
        raised = raised.filter((event) => this.wanted(event.name));
        await tx.insertOutboxEvents(raised.map((event) => ({ ...event, at })));
        return value;
      });
    });
    if (raised.length > 0) this.onRaised();
    return result;
  }
}
