import { NotImplementedError } from '../core/errors.js';

/**
 * Click capture and the Stripe webhook route for fastify. Arrives with the click-capture release;
 * until then calling it throws, so a premature install fails loudly instead of doing nothing.
 */
export function attributionMiddleware(..._args: unknown[]): never {
  throw new NotImplementedError('stripe-attribution/fastify');
}
