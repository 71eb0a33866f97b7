/**
 * `checkout.session.async_payment_succeeded`: a session paid by ACH or SEPA becomes paid after it
 * completed, and is read like a completed one (the sale is made once, under its keys).
 */
export { checkoutSessionCompleted as checkoutSessionAsyncPaymentSucceeded } from './checkout-session-completed.js';
