/** `customer.subscription.updated`: the new state (plan, quantity, cancellation), read like its creation. */
export { customerSubscriptionCreated as customerSubscriptionUpdated } from './customer-subscription-created.js';
