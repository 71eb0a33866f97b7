import type { EventHandler } from './event-context.js';
import { accountUpdated } from './events/account-updated.js';
import { chargeDisputeClosed } from './events/charge-dispute-closed.js';
import { chargeDisputeCreated } from './events/charge-dispute-created.js';
import { chargeDisputeUpdated } from './events/charge-dispute-updated.js';
import { chargeRefunded } from './events/charge-refunded.js';
import { checkoutSessionAsyncPaymentSucceeded } from './events/checkout-session-async-payment-succeeded.js';
import { checkoutSessionCompleted } from './events/checkout-session-completed.js';
import { creditNoteCreated } from './events/credit-note-created.js';
import { creditNoteVoided } from './events/credit-note-voided.js';
import { customerCreated } from './events/customer-created.js';
import { customerSubscriptionCreated } from './events/customer-subscription-created.js';
import { customerSubscriptionDeleted } from './events/customer-subscription-deleted.js';
import { customerSubscriptionUpdated } from './events/customer-subscription-updated.js';
import { customerUpdated } from './events/customer-updated.js';
import { invoicePaid } from './events/invoice-paid.js';
import { invoicePaymentPaid } from './events/invoice-payment-paid.js';
import { invoicePaymentSucceeded } from './events/invoice-payment-succeeded.js';
import { paymentIntentSucceeded } from './events/payment-intent-succeeded.js';
import { transferReversed } from './events/transfer-reversed.js';

// One file per Stripe event type, in `events/`, named after it. No prototype: an event type such
// as "toString" must find no handler, not one of Object's methods.
const HANDLERS: Record<string, EventHandler | undefined> = Object.assign(Object.create(null) as Record<string, EventHandler>, {
  'checkout.session.completed': checkoutSessionCompleted,
  'checkout.session.async_payment_succeeded': checkoutSessionAsyncPaymentSucceeded,
  'invoice.paid': invoicePaid,
  'invoice.payment_succeeded': invoicePaymentSucceeded,
  'invoice_payment.paid': invoicePaymentPaid,
  'payment_intent.succeeded': paymentIntentSucceeded,
  'charge.refunded': chargeRefunded,
  'customer.created': customerCreated,
  'customer.updated': customerUpdated,
  'customer.subscription.created': customerSubscriptionCreated,
  'customer.subscription.updated': customerSubscriptionUpdated,
  'customer.subscription.deleted': customerSubscriptionDeleted,
  'charge.dispute.created': chargeDisputeCreated,
  'charge.dispute.updated': chargeDisputeUpdated,
  'charge.dispute.closed': chargeDisputeClosed,
  'credit_note.created': creditNoteCreated,
  'credit_note.voided': creditNoteVoided,
  'account.updated': accountUpdated,
  'transfer.reversed': transferReversed,
});

/** The Stripe event types to enable on the webhook endpoint. */
export const HANDLED_EVENT_TYPES = Object.keys(HANDLERS);

/** Of those, the events of connected accounts: Stripe sends them to an endpoint listening to connected accounts. */
export const CONNECT_EVENT_TYPES = ['account.updated'];

/** The handler of a Stripe event type, or undefined for a type the library does not handle. */
export function handlerFor(type: string): EventHandler | undefined {
  return HANDLERS[type];
}
