import Koa from 'koa';
import Stripe from 'stripe';
import { createAttribution } from 'stripe-attribution';
import { attributionMiddleware } from 'stripe-attribution/koa';

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY!);
export const attribution = createAttribution({
  database: process.env.DATABASE_URL, // omit for embedded PGlite in ./.stripe-attribution
  webhookSecret: process.env.STRIPE_WEBHOOK_SECRET,
  stripe,
});
await attribution.migrate();

export const app = new Koa();
app.use(attributionMiddleware(attribution)); // first: clicks, and POST /webhooks/stripe with its raw body
app.use(async (ctx) => {
  if (ctx.method === 'POST' && ctx.path === '/signup') {
    const user = { id: `user_${Date.now()}`, email: String(ctx.query.email) }; // your own signup
    const lead = await attribution.trackLead({ customerExternalId: user.id, email: user.email });
    ctx.body = { userId: user.id, partnerId: lead.customer.partnerId };
  }
});

if (process.env.NODE_ENV !== 'test') app.listen(3000);
