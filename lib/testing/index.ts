// Public entry point of rxnet/testing: the in-memory test kit (connection pairs, server, marble helpers).
export { MemoryConnection, connectionPair } from './MemoryConnection';
export type { ConnectionPairOptions, PairOptions } from './MemoryConnection';
export { MemoryWire } from './MemoryWire';
export type { Chunking, MemoryWireOptions, WireOptions } from './MemoryWire';
export { MemoryServer, memoryServer } from './memoryServer';
export type { MemoryServerOptions } from './memoryServer';
export { asHex, asText, bytes, comparable, createTestScheduler } from './marbles';
export type { BytesAs, ComparableOptions } from './marbles';
export type { NetError } from './netErrors';
