import { newId } from '../kernel/ids.js';

const CLICK_ID = /^clk_[A-Za-z0-9_-]{22}$/;

export function newClickId(): string {
  return newId('clk');
}

/**
 * Whether a value could be one of our click ids. Cookies and Stripe fields are visitor-controlled:
 * anything else is ignored before it reaches a query, and a well-formed id still counts only if
 * the database knows the click.
 */
export function isClickId(value: unknown): value is string {
  return typeof value === 'string' && CLICK_ID.test(value);
}
