/**
 * `stripe-attribution/testing`: Stripe webhook events for your own integration tests, and a way to
 * deliver them signed to your app, exactly as Stripe would.
 *
 * ```ts
 * import { checkoutSession, deliver, event } from 'stripe-attribution/testing';
 * const completed = event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: clickId } }));
 * expect(await deliver(app, completed, { secret: process.env.STRIPE_WEBHOOK_SECRET! })).toMatchObject({ status: 200 });
 * ```
 */
export { T0, charge, checkoutSession, creditNote, customer, discount, dispute, invoice, invoiceLine, invoicePayment, lineItem, paymentIntent, subscription, webhookEndpoint } from './objects.js';
export { account, transfer } from './connect.js';
export { CURRENT_API_VERSION, LEGACY_API_VERSION, event, type EventObject, type EventOptions } from './events.js';
export { legacyCharge, legacyCreditNote, legacyInvoice, legacyPaymentIntent } from './legacy.js';
export { deliver, type DeliverOptions, type Delivery, type DeliveryTarget } from './deliver.js';
