/** `charge.dispute.updated`: the dispute's new state, read like its creation. */
export { chargeDisputeCreated as chargeDisputeUpdated } from './charge-dispute-created.js';
