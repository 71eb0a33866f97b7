import Stripe from 'stripe';
import { createAttribution } from 'stripe-attribution';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);
export const attribution = createAttribution({
  database: process.env.DATABASE_URL, // omit for embedded PGlite in ./.stripe-attribution
  webhookSecret: process.env.STRIPE_WEBHOOK_SECRET,
  stripe,
});
// Run `npx stripe-attribution migrate` once per deploy (or call attribution.migrate() at startup).
