/** Client adapters: any Redis client library, in any language, driven over JSON lines (protocol.ts). */
export * from './protocol.js';
export { AdapterError, AdapterProcess, DEFAULT_ADAPTER_TIMINGS, type AdapterSpec, type AdapterTimings } from './process.js';
export { BROKEN_CLIENTS, SHIPPED_CLIENTS, knownAdapters, resolveAdapter } from './registry.js';
export { defaultMode, helloFor, type HelloOptions } from './hello.js';
export { ClientWorkload, DELIVER_F, type ClientWorkloadOptions } from './workload.js';
