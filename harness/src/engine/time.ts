/** Kept for imports written before harness/src/support existed; the one implementation is support/time.ts. */
export { delay, FatalWaitError, scaled, timeScale, waitFor } from '../support/time.js';
