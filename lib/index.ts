// Public entry point of rxnet: re-exports only.
export * from './types';
export * from './errors';
// core
// framing
// time
