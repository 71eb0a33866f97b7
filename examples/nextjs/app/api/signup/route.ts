import { withAttribution } from 'stripe-attribution/nextjs';
import { attribution } from '@/lib/attribution';

export const POST = withAttribution(async (request: Request) => {
  const { email } = (await request.json()) as { email: string };
  const user = { id: `user_${Date.now()}`, email }; // your own signup
  const lead = await attribution.trackLead({ customerExternalId: user.id, email: user.email });
  return Response.json({ userId: user.id, partnerId: lead.customer.partnerId });
}, attribution);
