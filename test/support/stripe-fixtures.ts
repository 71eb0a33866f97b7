/** Our own tests build Stripe objects and events with the testing kit merchants use. */
export * from '../../src/testing/index.js';
