import { benchWebhooks } from './webhooks.js';

/** The webhook bench in a process of its own, so `npm run bench` can run it on another Node: sends its figure to the parent. */
process.send!(await benchWebhooks());
process.disconnect();
