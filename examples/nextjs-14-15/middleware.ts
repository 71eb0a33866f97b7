// Next 14/15 only (Edge runtime): no database here, referral visits go to app/api/attribution/click.
import { attributionEdgeMiddleware } from 'stripe-attribution/nextjs/edge';

export const middleware = attributionEdgeMiddleware();
export const config = { matcher: ['/((?!_next/|api/).*)'] };
