import Stripe from 'stripe';
import { createAttribution } from 'stripe-attribution';

// `next build` loads this file too, often without secrets: a missing key must not fail it.
const key = process.env.STRIPE_SECRET_KEY;
export const attribution = createAttribution({
  database: process.env.DATABASE_URL, // omit for embedded PGlite in ./.stripe-attribution
  webhookSecret: process.env.STRIPE_WEBHOOK_SECRET,
  stripe: key ? new Stripe(key) : undefined,
});
// Run `npx stripe-attribution migrate` once per deploy (or call attribution.migrate() at startup).
