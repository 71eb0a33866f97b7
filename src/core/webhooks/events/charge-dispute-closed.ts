/** `charge.dispute.closed`: won (no longer counts) or lost, read like its creation. */
export { chargeDisputeCreated as chargeDisputeClosed } from './charge-dispute-created.js';
