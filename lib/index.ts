// Public entry point of rxnet: re-exports only.
export * from './types';
export * from './errors';
// core
// framing
export * from './operators/delimited';
export * from './operators/lines';
export * from './operators/lengthField';
export * from './operators/fixedLength';
export * from './operators/encodeDelimited';
export * from './operators/encodeLines';
export * from './operators/encodeLengthField';
export * from './operators/encodeFixedLength';
export * from './operators/decodeText';
export * from './operators/decodeNdjson';
export * from './operators/encodeNdjson';
export * from './operators/decodeStruct';
export * from './operators/encodeStruct';
export * from './codec/struct';
export type { Truncation } from './framing/Framer';
// time
