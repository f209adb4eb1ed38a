// The varint framer of docs/framing-your-own.md, run as the page shows it: frames however the stream is cut.
import * as fs from 'fs';
import * as path from 'path';
import { from, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import * as rxjs from 'rxjs';
import * as ts from 'typescript';
import * as rxnet from '../../lib';
import { CorruptedFrameError, FrameTooLongError, TruncatedFrameError } from '../../lib';
import { ROOT, tsBlocks } from './markdown';

/** The page's sample up to its use on a connection, compiled and run with `rxnet` resolving to lib/. */
function loadSample(): (maxLength?: number) => OperatorFunction<Buffer, Buffer> {
  const page = fs.readFileSync(path.join(ROOT, 'docs/framing-your-own.md'), 'utf8');
  const sample = tsBlocks(page).find((block) => block.code.includes('class VarintFramer'));
  if (!sample) throw new Error('docs/framing-your-own.md has no VarintFramer sample');
  const code = sample.code.slice(0, sample.code.indexOf('declare const conn'));
  const js = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const module = { exports: {} as Record<string, unknown> };
  const modules: Record<string, unknown> = { rxnet, rxjs };
  const load = (id: string) => {
    if (!(id in modules)) throw new Error(`the sample imports ${id}, which this spec does not provide`);
    return modules[id];
  };
  new Function('require', 'module', 'exports', js)(load, module, module.exports);
  return module.exports.decodeVarintFrames as (maxLength?: number) => OperatorFunction<Buffer, Buffer>;
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) bytes.push((n % 0x80) | 0x80);
  bytes.push(n);
  return Buffer.from(bytes);
}

/** `data` cut into pieces of `size` bytes, with an empty chunk after each. */
function rechunk(data: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, i + size), Buffer.alloc(0));
  return chunks;
}

const decodeVarintFrames = loadSample();
const LENGTHS = [0, 1, 127, 128, 300, 16383, 16384];
const messages = LENGTHS.map((n, i) => Buffer.alloc(n, 0x61 + i));
const stream = Buffer.concat(messages.flatMap((m) => [varint(m.length), m]));

async function failure(data: Buffer, maxLength?: number): Promise<unknown> {
  return lastValueFrom(from([data]).pipe(decodeVarintFrames(maxLength))).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('the varint framer of docs/framing-your-own.md', () => {
  it.each([1, 2, 3, 7, 128, 100_000])(
    'emits every frame, boundary lengths included, from chunks of %i byte(s)',
    async (size) => {
      const frames = await lastValueFrom(from(rechunk(stream, size)).pipe(decodeVarintFrames(), toArray()));
      expect(frames.map((f) => f.length)).toEqual(LENGTHS);
      expect(Buffer.concat(frames).equals(Buffer.concat(messages))).toBe(true);
    },
  );

  it('emits FrameTooLongError when the announced length exceeds maxLength, before the body arrives', async () => {
    const error = await failure(varint(300), 299);
    expect(error).toBeInstanceOf(FrameTooLongError);
    expect(error).toMatchObject({ limit: 299, length: 300 });
  });

  it('emits TruncatedFrameError when the stream ends inside a frame', async () => {
    const error = await failure(stream.subarray(0, -1));
    expect(error).toBeInstanceOf(TruncatedFrameError);
    expect(error).toMatchObject({ buffered: 3 + 16383 }); // a 3-byte varint and all but the last byte
  });

  it('emits CorruptedFrameError for a varint longer than 5 bytes', async () => {
    expect(await failure(Buffer.alloc(6, 0xff))).toBeInstanceOf(CorruptedFrameError);
  });
});
