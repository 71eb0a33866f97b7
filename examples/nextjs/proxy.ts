// Next 16. On Next 14/15 (Edge middleware.ts), see the README.
import { attributionMiddleware } from 'stripe-attribution/nextjs';
import { attribution } from '@/lib/attribution';

export const proxy = attributionMiddleware(attribution);
export const config = { matcher: ['/((?!_next/|api/webhooks/).*)'] };
