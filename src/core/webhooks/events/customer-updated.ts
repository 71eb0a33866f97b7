/** `customer.updated`: read like its creation; a customer already credited keeps its partner. */
export { customerCreated as customerUpdated } from './customer-created.js';
