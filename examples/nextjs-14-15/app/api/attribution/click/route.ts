// Only for Next 14/15, whose Edge middleware.ts forwards referral visits here.
import { clickCaptureRoute } from 'stripe-attribution/nextjs';
import { attribution } from '@/lib/attribution';

export const GET = clickCaptureRoute(attribution);
