// Child-process entry of one bench server: starts it, tells the runner its port, answers memory queries over IPC.
import { getHeapSpaceStatistics } from 'v8';
import { REPLY_STYLES, startServer, type ReplyStyle, type ServerKind, type ServerWorkload } from './servers';

/** Messages the runner sends. */
export type ServerRequest = { type: 'mem' } | { type: 'cpu' } | { type: 'stop' };

/** Messages this child sends back. */
export type ServerReply =
  /** mallocTrimThreshold: MALLOC_TRIM_THRESHOLD_ in this process's environment, if set. */
  | { type: 'listening'; port: number; mallocTrimThreshold: string | undefined }
  | { type: 'mem'; mem: MemorySample }
  /** process.cpuUsage() in microseconds, and the minor page faults so far. */
  | { type: 'cpu'; user: number; system: number; minorFaults: number }
  | { type: 'error'; message: string };

export interface MemorySample {
  /** After two full GCs (the child runs with --expose-gc). */
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Peak resident set size of the process so far, in bytes. */
  maxRss: number;
  /** Bytes V8 has reserved for its young generation (it shrinks after a while without allocation). */
  newSpace: number;
  /** Of those, the bytes resident (touched): part of `rss`, though the GCs above left them empty. */
  newSpaceResident: number;
}

/** Measures this process's memory after collecting garbage. */
export function sampleMemory(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    maxRss: process.resourceUsage().maxRSS * 1024,
    newSpace: young?.space_size ?? 0,
    newSpaceResident: young?.physical_space_size ?? 0,
  };
}

/** RXNET_BENCH_REPLY: `cut` when unset or empty, else one of REPLY_STYLES; anything else is an error. */
function replyStyle(value: string | undefined): ReplyStyle {
  if (value === undefined || value === '') return 'cut';
  const style = REPLY_STYLES.find((s) => s === value);
  if (style === undefined) {
    throw new Error(`RXNET_BENCH_REPLY must be one of ${REPLY_STYLES.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return style;
}

async function main(): Promise<void> {
  const [kind, workload, sourceBytes] = process.argv.slice(2);
  const send = (reply: ServerReply) => process.send?.(reply);
  const server = await startServer({
    kind: kind as ServerKind,
    workload: workload as ServerWorkload,
    host: '127.0.0.1',
    sourceBytes: sourceBytes === undefined ? undefined : Number(sourceBytes),
    // The runner's --reply, through the environment (argv is positional).
    reply: replyStyle(process.env.RXNET_BENCH_REPLY),
  });
  process.on('message', (request: ServerRequest) => {
    if (request.type === 'mem') send({ type: 'mem', mem: sampleMemory() });
    else if (request.type === 'cpu')
      send({ type: 'cpu', ...process.cpuUsage(), minorFaults: process.resourceUsage().minorPageFault });
    else if (request.type === 'stop') {
      // Exit without waiting for peers: a normal exit still writes --cpu-prof output.
      void server.close();
      process.disconnect?.();
      setImmediate(() => process.exit(0));
    }
  });
  // The runner went away: do not linger.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'listening', port: server.port, mallocTrimThreshold: process.env.MALLOC_TRIM_THRESHOLD_ });
}

main().catch((error: Error) => {
  const message: ServerReply = { type: 'error', message: String(error?.stack ?? error) };
  // Exit once the runner has the reason (a bad RXNET_BENCH_REPLY, an unknown kind).
  if (process.send) process.send(message, () => process.exit(1));
  else {
    console.error(error);
    process.exit(1);
  }
});
