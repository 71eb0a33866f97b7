import { webhookRoute } from 'stripe-attribution/nextjs';
import { attribution } from '@/lib/attribution';

export const POST = webhookRoute(attribution);
