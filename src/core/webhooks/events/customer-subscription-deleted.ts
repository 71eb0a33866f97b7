/** `customer.subscription.deleted`: the subscription ended (churn), read like its creation. */
export { customerSubscriptionCreated as customerSubscriptionDeleted } from './customer-subscription-created.js';
