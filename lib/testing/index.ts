// Public entry point of rxnet/testing: the in-memory test kit (connection pairs, server, datagram network, marble helpers).
export { MemoryConnection } from './MemoryConnection';
export type { MemoryAddresses } from './MemoryConnection';
export { connectionPair } from './connectionPair';
export type { ConnectionPairOptions, PairOptions } from './connectionPair';
export { MemoryWire } from './MemoryWire';
export type { MemoryWireOptions, WireOptions } from './MemoryWire';
export type { Chunking } from './chunking';
export { MemoryServer, memoryServer } from './memoryServer';
export type { MemoryServerOptions } from './memoryServer';
export { MemoryDatagramNetwork } from './MemoryDatagramNetwork';
export type {
  DatagramTraceEntry,
  MemoryBindOptions,
  MemoryDatagramNetworkOptions,
  MemoryDatagramStats,
} from './MemoryDatagramNetwork';
export { randomFaults } from './datagramFaults';
export type { DatagramFate, DatagramFaults, NetworkDatagram, RandomFaultsOptions } from './datagramFaults';
export { asHex, asText, bytes, comparable, createTestScheduler } from './marbles';
export type { BytesAs, ComparableOptions, CreateTestSchedulerOptions } from './marbles';
export type { NetError } from './netErrors';
