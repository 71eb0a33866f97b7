/** `invoice.payment_succeeded`: the same invoice as `invoice.paid`, one sale whichever arrives first. */
export { invoicePaid as invoicePaymentSucceeded } from './invoice-paid.js';
