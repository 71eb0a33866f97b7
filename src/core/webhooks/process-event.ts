import type Stripe from 'stripe';
import type { ResolvedOptions } from '../options.js';
import { commissionSale } from '../commissions/engine.js';
import { emit } from '../hooks.js';
import { checkoutSessionEvent } from '../sales/checkout-sessions.js';
import { invoicePaidEvent, invoicePaymentPaidEvent } from '../sales/invoices.js';
import { paymentIntentSucceededEvent } from '../sales/payment-intents.js';
import { chargeRefundedEvent } from '../sales/refunds.js';
import { customerEvent } from '../sales/stripe-leads.js';
import { creditNoteEvent, creditNoteVoidedEvent } from '../sales/credit-notes.js';
import { disputeEvent } from '../sales/disputes.js';
import { subscriptionEvent } from '../sales/subscriptions.js';
import type { Storage, StorageOperations } from '../storage/types.js';
import { parkingKeys, type EventContext, type EventHandler } from './events.js';
import type { WebhookResponse } from './handle-webhook.js';
import { transactionWithLookups, type Lookup } from './lookups.js';

// No prototype: an event type such as "toString" must find no handler, not one of Object's methods.
const HANDLERS: Record<string, EventHandler | undefined> = Object.assign(Object.create(null) as Record<string, EventHandler>, {
  'checkout.session.completed': checkoutSessionEvent,
  'checkout.session.async_payment_succeeded': checkoutSessionEvent,
  'invoice.paid': invoicePaidEvent,
  'invoice.payment_succeeded': invoicePaidEvent,
  'invoice_payment.paid': invoicePaymentPaidEvent,
  'payment_intent.succeeded': paymentIntentSucceededEvent,
  'charge.refunded': chargeRefundedEvent,
  'customer.created': customerEvent,
  'customer.updated': customerEvent,
  'customer.subscription.created': subscriptionEvent,
  'customer.subscription.updated': subscriptionEvent,
  'customer.subscription.deleted': subscriptionEvent,
  'charge.dispute.created': disputeEvent,
  'charge.dispute.updated': disputeEvent,
  'charge.dispute.closed': disputeEvent,
  'credit_note.created': creditNoteEvent,
  'credit_note.voided': creditNoteVoidedEvent,
});

/** The Stripe event types to enable on the webhook endpoint. */
export const HANDLED_EVENT_TYPES = Object.keys(HANDLERS);

/**
 * Processes one verified event exactly once: its id is recorded in the same transaction as its
 * effects, so a repeat (or a concurrent copy, which waits on the first's row) changes nothing,
 * and a failure rolls everything back for Stripe to retry.
 */
export async function processEvent(storage: Storage, options: ResolvedOptions, event: Stripe.Event): Promise<WebhookResponse> {
  await applyEvent(storage, options, event);
  return { status: 200, body: { received: true, type: event.type } };
}

/** `processEvent`'s work: true when this call applied the event, false for a repeat or an unhandled type. */
export async function applyEvent(storage: Storage, options: ResolvedOptions, event: Stripe.Event): Promise<boolean> {
  const handler = HANDLERS[event.type];
  if (!handler) return false;
  return transactionWithLookups(storage, options, async (tx, lookup) => {
    const first = await tx.recordWebhookEvent({
      id: event.id,
      type: event.type,
      livemode: event.livemode,
      apiVersion: event.api_version ?? null,
      createdAt: new Date(event.created * 1000),
    });
    if (first) await handler(context(tx, options, lookup, event));
    return first;
  });
}

function context(tx: StorageOperations, options: ResolvedOptions, lookup: Lookup, event: Stripe.Event): EventContext {
  return {
    tx,
    options,
    event,
    lookup,
    async saleRecorded(sale, how) {
      if (!how?.claimed) emit('sale.created', { sale });
      await commissionSale(tx, options, lookup, sale);
      await this.saleKnown({ stripePaymentIntentId: sale.stripePaymentIntentId, stripeInvoiceId: sale.stripeInvoiceId });
    },
    async saleKnown(keys) {
      for (const key of parkingKeys(keys)) {
        for (const parked of await tx.takeParkedEvents(key)) {
          const waiting = parked.event as Stripe.Event;
          await HANDLERS[waiting.type]?.(context(tx, options, lookup, waiting));
        }
      }
    },
  };
}

/** After this many failed retries a parked event is left for a person to look at (`last_error`). */
const MAX_PARKED_ATTEMPTS = 25;

/**
 * Retries parked events, each in a transaction of its own (from a cron; safe in several instances
 * at once: each event is taken by one of them). An event whose counterpart is still missing is
 * parked again; one whose retry fails keeps its error and counts an attempt, and after
 * MAX_PARKED_ATTEMPTS it is no longer retried.
 */
export async function applyParked(storage: Storage, options: ResolvedOptions): Promise<{ retried: number; stillParked: number }> {
  let retried = 0;
  for (const eventId of await storage.listParkedEventIds(MAX_PARKED_ATTEMPTS)) {
    try {
      const taken = await transactionWithLookups(storage, options, async (tx, lookup) => {
        const parked = await tx.takeParkedEvent(eventId);
        if (!parked) return false;
        const waiting = parked.event as Stripe.Event;
        await HANDLERS[waiting.type]?.(context(tx, options, lookup, waiting));
        // Parked again (its counterpart is still missing): that was one more attempt.
        await tx.recordParkedFailure(eventId, `still waiting for ${parked.waitingFor}`, parked.attempts + 1);
        return true;
      });
      if (taken) retried++;
    } catch (error) {
      options.onError(error, `retrying parked Stripe event ${eventId}`);
      await storage.recordParkedFailure(eventId, error instanceof Error ? error.message : String(error));
    }
  }
  return { retried, stillParked: await storage.countParkedEvents() };
}
