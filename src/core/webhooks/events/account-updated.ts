import type Stripe from 'stripe';
import { recordAccountTransfers } from '../../partners/connect.js';
import type { EventContext } from '../event-context.js';

/**
 * `account.updated` (a Connect event, from the endpoint listening to connected accounts): whether
 * a partner's account can receive transfers, from its `transfers` capability.
 */
export async function accountUpdated(context: EventContext): Promise<void> {
  const account = context.event.data.object as Stripe.Account;
  await recordAccountTransfers(context.tx, account.id, account.capabilities?.transfers ?? 'inactive');
}
