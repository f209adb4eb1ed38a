// Memory is bounded in objects, not only in bytes: a 1 MiB frame dripped one byte per chunk costs about its bytes.
import { spawn } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
const MiB = 1024 * 1024;
/** The frame's payload: 1 MiB, under the limit. */
const SIZE = MiB;
/** Old-space heap of the child: the 28 MB ts-node itself takes, plus room for a few MB of framing state. */
const MAX_OLD_SPACE_MB = 64;

/**
 * Run by a child Node: two connections' worth of framing at once, each fed one frame of SIZE bytes
 * in one-byte chunks, each chunk its own allocation as a socket read gives it. Every 64 KiB it
 * collects garbage and samples live memory (JS heap + ArrayBuffers); prints the peak above the start.
 */
const CHILD = `
const { Subject } = require('rxjs');
const { decodeLines } = require('./lib/index');
const { decodeLengthField } = require('./lib/index');
const [which, size] = [process.argv[1], Number(process.argv[2])];
const live = () => { gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
const header = Buffer.alloc(4);
header.writeUInt32BE(size);
const op = which === 'lines'
  ? () => decodeLines({ maxLength: size })
  : () => decodeLengthField({ lengthFieldLength: 4, initialBytesToStrip: 4, maxFrameLength: size + 4 });
const total = which === 'lines' ? size + 1 : size + 4;
const byteAt = which === 'lines' ? (i) => (i === size ? 0x0a : 0x61) : (i) => (i < 4 ? header[i] : 0x61);
const connections = [new Subject(), new Subject()];
const frames = [];
for (const input of connections) input.pipe(op()).subscribe((frame) => frames.push(frame.length));
const start = live();
let peak = 0;
const started = Date.now();
for (let i = 0; i < total; i++) {
  for (const input of connections) {
    const chunk = Buffer.allocUnsafeSlow(1);
    chunk[0] = byteAt(i);
    input.next(chunk);
  }
  if ((i & 0xffff) === 0xffff) peak = Math.max(peak, live() - start);
}
peak = Math.max(peak, live() - start);
console.log(JSON.stringify({ which, frames, peak, ms: Date.now() - started }));
`;

interface DripResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  report?: { which: string; frames: number[]; peak: number; ms: number };
  output: string;
}

function drip(which: 'lines' | 'lengthField'): Promise<DripResult> {
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${MAX_OLD_SPACE_MB}`,
      '--expose-gc',
      '-r',
      'ts-node/register/transpile-only',
      '-e',
      CHILD,
      which,
      String(SIZE),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      const line = output.split('\n').find((l) => l.startsWith('{'));
      resolve({ code, signal, report: line === undefined ? undefined : JSON.parse(line), output: output.slice(-2000) });
    }),
  );
}

describe('a 1 MiB frame dripped one byte per chunk, two connections at once', () => {
  it.each(['lengthField', 'lines'] as const)(
    `%s completes in a ${MAX_OLD_SPACE_MB} MB heap and holds at most 2 x the limit per connection plus 1 MiB`,
    async (which) => {
      const result = await drip(which);
      if (result.code !== 0) throw new Error(`child ended with ${result.code ?? result.signal}:\n${result.output}`);
      expect(result.report?.frames).toEqual([SIZE, SIZE]);
      // Two connections, each under 2 x its limit (SIZE plus a header or a line ending), plus a constant.
      expect(result.report!.peak).toBeLessThanOrEqual(2 * 2 * (SIZE + 4) + MiB);
    },
  );
});
