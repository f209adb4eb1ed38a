// Framing throughput: each rxnet decoder against a hand-written loop over the same in-memory chunks (and split2 for lines); --memory: what frames cost in memory.
import { Observable, Subject, map, type OperatorFunction } from 'rxjs';
import split2 from 'split2';
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import { decodeDelimited } from '../lib/framing/delimited/decodeDelimited';
import { decodeFixedLength } from '../lib/framing/fixedLength/decodeFixedLength';
import { decodeLengthField } from '../lib/framing/lengthField/decodeLengthField';
import { decodeLines } from '../lib/framing/lines/decodeLines';

/** Bytes decoded per measured pass. */
const PASS_BYTES = 16 * 1024 * 1024;
const FRAME_SIZES = [64, 1024, 64 * 1024];
/** Chunk sizes that do not divide the frame sizes, so frames straddle chunks: about one TCP segment, and about a socket read. */
const CHUNK_SIZES = [1461, 65521];

type Emit = (frame: Buffer) => void;
/** A hand-written decoder: fed chunk by chunk, calls `emit` per frame. */
type HandDecoder = (emit: Emit) => { push(chunk: Buffer): void; end(): void };

interface Case {
  name: string;
  frame: (size: number) => Buffer;
  rxnet: (size: number) => OperatorFunction<Buffer, unknown>;
  hand: (size: number) => HandDecoder;
}

// ---------------------------------------------------------------------------------------------
// Hand-written loops, written as a careful programmer would: search only new bytes, slice inside
// a chunk, concatenate the pieces of a frame once when it spans chunks.

/** Frames ended by one byte, held pieces concatenated once per spanning frame; `stripCR` for lines. */
function handDelimited(byte: number, stripCR: boolean): HandDecoder {
  return (emit) => {
    let parts: Buffer[] = [];
    let held = 0;
    return {
      push(chunk) {
        let start = 0;
        let index: number;
        while ((index = chunk.indexOf(byte, start)) !== -1) {
          let frame: Buffer;
          if (held > 0) {
            parts.push(chunk.subarray(start, index));
            frame = Buffer.concat(parts, held + index - start);
            parts = [];
            held = 0;
          } else frame = chunk.subarray(start, index);
          if (stripCR && frame.length > 0 && frame[frame.length - 1] === 13)
            frame = frame.subarray(0, frame.length - 1);
          emit(frame);
          start = index + 1;
        }
        if (start < chunk.length) {
          parts.push(start === 0 ? chunk : chunk.subarray(start));
          held += chunk.length - start;
        }
      },
      end() {
        if (held > 0) emit(Buffer.concat(parts, held));
      },
    };
  };
}

/** [uint32 BE length][payload], header stripped; waits until a frame is complete before concatenating. */
const handLengthField: HandDecoder = (emit) => {
  let parts: Buffer[] = [];
  let held = 0;
  let need = 4;
  return {
    push(chunk) {
      let buffer = chunk;
      if (held > 0) {
        parts.push(chunk);
        held += chunk.length;
        if (held < need) return;
        buffer = Buffer.concat(parts, held);
        parts = [];
        held = 0;
      }
      let offset = 0;
      while (buffer.length - offset >= 4) {
        const length = buffer.readUInt32BE(offset);
        if (buffer.length - offset - 4 < length) break;
        emit(buffer.subarray(offset + 4, offset + 4 + length));
        offset += 4 + length;
      }
      if (offset < buffer.length) {
        parts = [offset === 0 ? buffer : buffer.subarray(offset)];
        held = buffer.length - offset;
        need = held >= 4 ? 4 + buffer.readUInt32BE(offset) : 4;
      }
    },
    end() {},
  };
};

function handFixedLength(size: number): HandDecoder {
  return (emit) => {
    let parts: Buffer[] = [];
    let held = 0;
    return {
      push(chunk) {
        let buffer = chunk;
        if (held > 0) {
          parts.push(chunk);
          held += chunk.length;
          if (held < size) return;
          buffer = Buffer.concat(parts, held);
          parts = [];
          held = 0;
        }
        let offset = 0;
        while (buffer.length - offset >= size) {
          emit(buffer.subarray(offset, offset + size));
          offset += size;
        }
        if (offset < buffer.length) {
          parts = [buffer.subarray(offset)];
          held = buffer.length - offset;
        }
      },
      end() {},
    };
  };
}

// ---------------------------------------------------------------------------------------------

const cases: Case[] = [
  {
    name: 'lines',
    frame: (size) => Buffer.concat([Buffer.alloc(size - 1, 0x78), Buffer.from('\n')]),
    rxnet: (size) => decodeLines({ maxLength: size }),
    hand: () => handDelimited(0x0a, true),
  },
  {
    name: 'delimited',
    frame: (size) => Buffer.concat([Buffer.alloc(size - 1, 0x78), Buffer.from([0])]),
    rxnet: (size) => decodeDelimited(Buffer.from([0]), { maxLength: size }),
    hand: () => handDelimited(0x00, false),
  },
  {
    name: 'lengthField',
    frame: (size) => {
      const frame = Buffer.alloc(size, 0x78);
      frame.writeUInt32BE(size - 4, 0);
      return frame;
    },
    rxnet: (size) => decodeLengthField({ maxFrameLength: size, lengthFieldLength: 4, initialBytesToStrip: 4 }),
    hand: () => handLengthField,
  },
  {
    name: 'fixedLength',
    frame: (size) => Buffer.alloc(size, 0x78),
    rxnet: (size) => decodeFixedLength(size),
    hand: (size) => handFixedLength(size),
  },
];

/** The pass's bytes, cut into chunks of `chunkSize`. */
function chunksOf(frame: Buffer, chunkSize: number): Buffer[] {
  const count = Math.max(1, Math.floor(PASS_BYTES / frame.length));
  const all = Buffer.alloc(count * frame.length);
  for (let i = 0; i < count; i++) frame.copy(all, i * frame.length);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < all.length; offset += chunkSize) {
    chunks.push(Buffer.from(all.subarray(offset, offset + chunkSize)));
  }
  return chunks;
}

interface Sample {
  seconds: number;
  frames: number;
  bytes: number;
}

/**
 * Runs the two passes alternately, one after the other, for about `budgetMs` after a warm-up, and
 * returns the fastest of each. On a shared machine, load comes and goes: alternating pass by pass
 * exposes both sides to the same conditions, and the fastest pass is the one least disturbed.
 */
async function measurePair(
  a: () => Promise<Sample> | Sample,
  b: () => Promise<Sample> | Sample,
  budgetMs: number,
): Promise<[Sample, Sample]> {
  await a();
  await b();
  let bestA: Sample | undefined;
  let bestB: Sample | undefined;
  const until = Date.now() + budgetMs;
  for (let runs = 0; runs < 400 && (runs < 5 || Date.now() < until); runs++) {
    // Swap the order every time, so that neither side always runs right after the other's garbage.
    let sa: Sample;
    let sb: Sample;
    if (runs % 2 === 0) {
      sa = await a();
      sb = await b();
    } else {
      sb = await b();
      sa = await a();
    }
    if (bestA === undefined || sa.seconds < bestA.seconds) bestA = sa;
    if (bestB === undefined || sb.seconds < bestB.seconds) bestB = sb;
  }
  return [bestA!, bestB!];
}

/**
 * CPU time this process spent (user + system), in seconds. The machine the bench runs on is often
 * shared: wall-clock time then counts the moments another process had the CPU, CPU time does not.
 */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function timed(work: (count: (frame: { length: number }) => void) => void): Sample {
  let frames = 0;
  let bytes = 0;
  const count = (frame: { length: number }) => {
    frames++;
    bytes += frame.length;
  };
  const started = cpuSeconds();
  work(count);
  return { seconds: cpuSeconds() - started, frames, bytes };
}

function rxnetPass(chunks: Buffer[], op: OperatorFunction<Buffer, { length: number }>): Sample {
  return timed((count) => {
    new Observable<Buffer>((subscriber) => {
      for (let i = 0; i < chunks.length; i++) subscriber.next(chunks[i]);
      subscriber.complete();
    })
      .pipe(op)
      .subscribe(count);
  });
}

function handPass(chunks: Buffer[], hand: HandDecoder): Sample {
  return timed((count) => {
    const decoder = hand(count);
    for (let i = 0; i < chunks.length; i++) decoder.push(chunks[i]);
    decoder.end();
  });
}

async function split2Pass(chunks: Buffer[], maxLength: number): Promise<Sample> {
  let frames = 0;
  let bytes = 0;
  const started = cpuSeconds();
  await new Promise<void>((resolve, reject) => {
    const stream = split2({ maxLength });
    stream.on('data', (line: string) => {
      frames++;
      bytes += line.length;
    });
    stream.on('end', resolve);
    stream.on('error', reject);
    for (const chunk of chunks) stream.write(chunk);
    stream.end();
  });
  return { seconds: cpuSeconds() - started, frames, bytes };
}

const mbps = (s: Sample, passBytes: number) => passBytes / s.seconds / 1e6;
const kfps = (s: Sample) => s.frames / s.seconds / 1e3;
const pad = (text: string | number, width: number) => String(text).padStart(width);

// ---------------------------------------------------------------------------------------------
// `--memory`: what framing costs in memory rather than time.

/**
 * Live bytes (JS heap and ArrayBuffers) after full collections. Freed ArrayBuffers are swept
 * concurrently, so one collection's frees may show only once the next one has finished them.
 */
function liveBytes(gc: () => void): number {
  for (let i = 0; i < 3; i++) gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/**
 * Memory kept by 1,000 one-byte frames, each cut from its own 64 KiB chunk (as a socket read
 * gives it) and kept, the rest of each chunk being one long frame that is dropped.
 */
function keptFrames(gc: () => void, op: OperatorFunction<Buffer, Buffer>, chunk: () => Buffer): number {
  const before = liveBytes(gc);
  const kept: Buffer[] = [];
  const input = new Subject<Buffer>();
  input.pipe(op).subscribe((frame) => {
    if (frame.length === 1) kept.push(frame);
  });
  for (let i = 0; i < 1000; i++) input.next(chunk());
  input.complete();
  const after = liveBytes(gc);
  if (kept.length !== 1000) throw new Error(`kept ${kept.length} frames`);
  return after - before;
}

/** Peak live memory while one frame of `total` bytes arrives one byte per chunk, sampled every 64 KiB. */
function dripPeak(gc: () => void, op: OperatorFunction<Buffer, Buffer>, total: number, byteAt: (i: number) => number) {
  const before = liveBytes(gc);
  let frames = 0;
  const input = new Subject<Buffer>();
  input.pipe(op).subscribe(() => frames++);
  let peak = 0;
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    const chunk = Buffer.allocUnsafeSlow(1);
    chunk[0] = byteAt(i);
    input.next(chunk);
    if ((i & 0xffff) === 0xffff) peak = Math.max(peak, liveBytes(gc) - before);
  }
  if (frames !== 1) throw new Error(`dripped ${frames} frames`);
  return { peak, ms: Date.now() - started };
}

async function memoryReport(): Promise<void> {
  setFlagsFromString('--expose-gc');
  // Else collections free the bytecode of functions left unused (ts-node's compiler among them):
  // about 1 MB that would show as noise in the small numbers.
  setFlagsFromString('--no-flush-bytecode');
  const gc = runInNewContext('gc') as () => void;
  const CHUNK = 64 * 1024;
  const MiB = 1024 * 1024;
  const mb = (n: number) => (n / 1e6).toFixed(2).padStart(8);
  console.log(`framing memory: live JS heap + ArrayBuffers after full GCs, node ${process.version}\n`);
  console.log('1,000 one-byte frames kept, each cut from its own 64 KiB chunk (MB kept)');
  const lineChunk = () => {
    const chunk = Buffer.allocUnsafeSlow(CHUNK).fill(0x79);
    chunk.write('x\n', 0, 'latin1');
    chunk[CHUNK - 1] = 0x0a;
    return chunk;
  };
  const lengthChunk = () => {
    const chunk = Buffer.allocUnsafeSlow(CHUNK).fill(0x79);
    chunk.writeUInt16BE(1, 0);
    chunk.writeUInt16BE(CHUNK - 5, 3);
    return chunk;
  };
  const keptOps: [string, (copy: boolean) => OperatorFunction<Buffer, Buffer>, () => Buffer][] = [
    ['lines', (copy) => decodeLines({ copy }), lineChunk],
    [
      'lengthField',
      (copy) => decodeLengthField({ lengthFieldLength: 2, initialBytesToStrip: 2, maxFrameLength: CHUNK, copy }),
      lengthChunk,
    ],
  ];
  console.log(`${'decoder'.padEnd(12)}${pad('views', 9)}${pad('copy', 9)}`);
  // The median of five, after a first pass that compiles what the others run.
  const median = (measure: () => number) => {
    measure();
    const all = [measure(), measure(), measure(), measure(), measure()].sort((a, b) => a - b);
    return all[2];
  };
  for (const [name, op, chunk] of keptOps) {
    const copies = median(() => keptFrames(gc, op(true), chunk));
    const views = median(() => keptFrames(gc, op(false), chunk));
    console.log(`${name.padEnd(12)}${mb(views)} ${mb(copies)}`);
  }
  console.log('\na 1 MiB frame arriving one byte per chunk (peak MB held while it arrives)');
  console.log(`${'decoder'.padEnd(12)}${pad('peak', 9)}${pad('× frame', 9)}${pad('ms', 8)}`);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(MiB);
  const dripOps: [string, OperatorFunction<Buffer, Buffer>, number, (i: number) => number][] = [
    ['lines', decodeLines({ maxLength: MiB }), MiB + 1, (i) => (i === MiB ? 0x0a : 0x61)],
    [
      'lengthField',
      decodeLengthField({ lengthFieldLength: 4, initialBytesToStrip: 4, maxFrameLength: MiB + 4 }),
      MiB + 4,
      (i) => (i < 4 ? header[i] : 0x61),
    ],
  ];
  for (const [name, op, total, byteAt] of dripOps) {
    const { peak, ms } = dripPeak(gc, op, total, byteAt);
    console.log(`${name.padEnd(12)}${mb(peak)} ${(peak / MiB).toFixed(2).padStart(8)}${pad(ms, 8)}`);
  }
}

/**
 * Prints one table per decoder; `--quick` shortens the runs, `--only NAME` picks one decoder,
 * `--memory` measures memory instead (frames kept, a frame dripped byte by byte).
 */
export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--memory')) return memoryReport();
  const quick = argv.includes('--quick');
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const budgetMs = quick ? 150 : 800;
  console.log(
    `framing bench: ${PASS_BYTES / 1024 / 1024} MiB per pass, CPU time, fastest pass of each side, passes alternated for ~${budgetMs} ms per row, node ${process.version}`,
  );
  console.log('ratio = rxnet MB/s ÷ hand-written loop MB/s (1.00 = as fast)\n');
  const header = `${'decoder'.padEnd(12)}${pad('frame', 7)}${pad('chunk', 7)}${pad('rxnet MB/s', 12)}${pad('kframes/s', 11)}${pad('hand MB/s', 11)}${pad('ratio', 7)}`;
  const ratios: number[] = [];
  const linesVsSplit2: string[] = [];
  for (const c of cases) {
    if (only !== undefined && c.name !== only) continue;
    console.log(header);
    for (const size of FRAME_SIZES) {
      for (const chunkSize of CHUNK_SIZES) {
        const frame = c.frame(size);
        const chunks = chunksOf(frame, chunkSize);
        const passBytes = chunks.reduce((n, ch) => n + ch.length, 0);
        const op = c.rxnet(size) as OperatorFunction<Buffer, { length: number }>;
        const [rx, hand] = await measurePair(
          () => rxnetPass(chunks, op),
          () => handPass(chunks, c.hand(size)),
          budgetMs,
        );
        if (rx.frames !== hand.frames)
          throw new Error(`${c.name}: rxnet saw ${rx.frames} frames, hand loop ${hand.frames}`);
        const ratio = mbps(rx, passBytes) / mbps(hand, passBytes);
        ratios.push(ratio);
        console.log(
          `${c.name.padEnd(12)}${pad(size, 7)}${pad(chunkSize, 7)}${pad(mbps(rx, passBytes).toFixed(0), 12)}${pad(kfps(rx).toFixed(0), 11)}${pad(mbps(hand, passBytes).toFixed(0), 11)}${pad(ratio.toFixed(2), 7)}`,
        );
        if (c.name === 'lines') {
          const asText = (src: Observable<Buffer>) =>
            src.pipe(
              decodeLines({ maxLength: size }),
              map((line) => line.toString('utf8')),
            );
          const [rxText, s2] = await measurePair(
            () => rxnetPass(chunks, asText),
            () => split2Pass(chunks, size + 1),
            budgetMs,
          );
          linesVsSplit2.push(
            `${'lines'.padEnd(12)}${pad(size, 7)}${pad(chunkSize, 7)}${pad(mbps(rx, passBytes).toFixed(0), 12)}${pad(mbps(rxText, passBytes).toFixed(0), 13)}${pad(mbps(s2, passBytes).toFixed(0), 12)}${pad((mbps(rx, passBytes) / mbps(s2, passBytes)).toFixed(2), 9)}${pad((mbps(rxText, passBytes) / mbps(s2, passBytes)).toFixed(2), 9)}`,
          );
        }
      }
    }
    console.log('');
  }
  if (linesVsSplit2.length > 0) {
    console.log('lines() against split2 (split2 yields strings; "rxnet+text" decodes each line to a string too)');
    console.log(
      `${'decoder'.padEnd(12)}${pad('frame', 7)}${pad('chunk', 7)}${pad('rxnet MB/s', 12)}${pad('rxnet+text', 13)}${pad('split2 MB/s', 12)}${pad('×split2', 9)}${pad('text×s2', 9)}`,
    );
    for (const line of linesVsSplit2) console.log(line);
    console.log('');
  }
  const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
  console.log(
    `rxnet ÷ hand-written loop: geometric mean ${geo.toFixed(2)}, min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}`,
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
