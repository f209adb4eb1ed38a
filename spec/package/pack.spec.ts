// The published package: `npm pack` (its prepack builds dist/), install the tarball into a fresh
// project, run a loopback echo through `import` and through `require`, type-check with our tsc:
// a user's program, code written for 0.1, and every .d.ts shipped (no @internal one among them).
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CODE_WRITTEN_FOR_0_1 } from '../docs/formerNames';

const ROOT = path.resolve(__dirname, '../..');
const TSC = require.resolve('typescript/bin/tsc');
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};
const RXJS_VERSION = lock.packages['node_modules/rxjs'].version as string;
/** rxnet/otel's optional peer, as a user of that entry point installs it. */
const OTEL_API_VERSION = lock.packages['node_modules/@opentelemetry/api'].version as string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (never longer than `timeout` ms) and resolves with its output. */
function run(file: string, args: string[], cwd: string, timeout = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout, maxBuffer: 16 * 1024 * 1024, env: process.env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function ok(result: Run, what: string): Run {
  if (result.code !== 0) throw new Error(`${what} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const read = (...parts: string[]): string => fs.readFileSync(path.join(...parts), 'utf8');

// One program for both module systems: a server on 127.0.0.1:0, a client that sends a line and
// takes the echo, then everything is torn down and the process must exit by itself.
const ECHO_BODY = `
async function main() {
  let bound;
  const port = new Promise((resolve) => (bound = resolve));
  const server = listen({ host: '127.0.0.1', port: 0, listening: (address) => bound(address.port) })
    .pipe(mergeMap((conn) => conn.data$.pipe(sendTo(conn))))
    .subscribe({ error: (error) => { console.error('server', error); process.exitCode = 1; } });
  const reply = await firstValueFrom(
    connect({ host: '127.0.0.1', port: await port }).pipe(
      mergeMap((conn) => {
        conn.write('hello rxnet\\n');
        return conn.data$.pipe(decodeLines(), map(String), take(1), finalize(() => conn.end()));
      }),
    ),
  );
  server.unsubscribe();
  return reply;
}
`;

const ECHO_MJS = `
import { createRequire } from 'node:module';
import * as rxnet from 'rxnet';
import { connect, decodeLines, listen, sendTo } from 'rxnet';
import { connectionPair, memoryServer } from 'rxnet/testing';
import { finalize, firstValueFrom, map, mergeMap, take } from 'rxjs';
${ECHO_BODY}
// Every name require() sees must be an ESM named export too (cjs-module-lexer must find it).
const required = createRequire(import.meta.url)('rxnet');
const missing = Object.keys(required).filter((name) => !(name in rxnet));
const reply = await main();
console.log(JSON.stringify({ reply, missing, count: Object.keys(required).length,
  testing: typeof connectionPair === 'function' && typeof memoryServer === 'function' }));
`;

const ECHO_CJS = `
const { connect, decodeLines, listen, sendTo } = require('rxnet');
const { connectionPair, memoryServer } = require('rxnet/testing');
const { finalize, firstValueFrom, map, mergeMap, take } = require('rxjs');
${ECHO_BODY}
main().then((reply) => console.log(JSON.stringify({ reply, missing: [], count: Object.keys(require('rxnet')).length,
  testing: typeof connectionPair === 'function' && typeof memoryServer === 'function' })));
`;

// A typed program; compiled as ESM (.mts), as CommonJS (.cts) and under the legacy resolver (.ts).
const TYPED = `
import { FrameTooLongError, decodeLengthField, decodeLines, listen, sendTo, type Connection, type ListenOptions } from 'rxnet';
import { createTestScheduler, memoryServer, type MemoryConnection } from 'rxnet/testing';
import { otelMetrics, type OtelServerMetrics } from 'rxnet/otel';
import { map, mergeMap, type Observable } from 'rxjs';

export const recorder: OtelServerMetrics = otelMetrics();

const echo = (conn: Connection): Observable<void> =>
  conn.data$.pipe(decodeLines({ maxLength: 1024 }), map((line) => \`\${line.toString()}\\n\`), sendTo(conn));
const options: ListenOptions = { host: '127.0.0.1', port: 0 };
export const server$: Observable<void> = listen(options).pipe(mergeMap(echo));
export const frames = decodeLengthField({ lengthFieldLength: 4, maxFrameLength: 65536 });
export const isTooLong = (error: unknown): boolean => error instanceof FrameTooLongError && error.code === 'ERR_FRAME_TOO_LONG';
createTestScheduler().run(() => {
  const server = memoryServer();
  server.listen().pipe(mergeMap(echo)).subscribe();
  const client: MemoryConnection = server.connect();
  client.write('hi\\n');
});
// @ts-expect-error: listen's options are checked
listen({ prot: 1 });
`;

/** The files under `dir` (recursively) whose names end with `suffix`, relative to `dir`. */
function filesUnder(dir: string, suffix: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(suffix))
    .sort();
}

function tsconfig(compilerOptions: Record<string, unknown>, files: string[]): string {
  return JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      lib: ['ES2022'],
      skipLibCheck: false,
      typeRoots: [path.join(ROOT, 'node_modules/@types')],
      types: ['node'],
      ...compilerOptions,
    },
    files,
  });
}

describe('the npm package', () => {
  let work: string;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rxnet-pack-'));
  });

  afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('packs, installs and runs through import and require, and type-checks with tsc', async () => {
    // Pack from a staging copy, so dist/ in the working tree (and a concurrent run) is not touched;
    // `npm pack` runs `prepack`, i.e. `npm run build`.
    const stage = path.join(work, 'stage');
    fs.mkdirSync(stage);
    for (const name of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json']) {
      fs.copyFileSync(path.join(ROOT, name), path.join(stage, name));
    }
    fs.cpSync(path.join(ROOT, 'lib'), path.join(stage, 'lib'), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
    const packed = ok(await run(npm, ['pack', '--json', '--pack-destination', work], stage, 90_000), 'npm pack');
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [
      { filename: string; files: { path: string }[] },
    ];
    const files = info.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/testing/index.js',
        'dist/testing/index.d.ts',
      ]),
    );
    expect(
      files.filter((f) => !f.startsWith('dist/') && f !== 'package.json' && f !== 'README.md' && !/^LICENSE/i.test(f)),
    ).toEqual([]);
    expect(files.filter((f) => /\.spec\.|\.tsbuildinfo$/.test(f))).toEqual([]);

    // A fresh project; the registry is asked only if npm's cache lacks rxjs.
    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'rxnet-pack-check', private: true }));
    const tarball = path.join(work, info.filename);
    const install = [
      'install',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      tarball,
      `rxjs@${RXJS_VERSION}`,
      `@opentelemetry/api@${OTEL_API_VERSION}`,
    ];
    let installed = await run(npm, [...install, '--offline'], app);
    if (installed.code !== 0) installed = await run(npm, [...install, '--prefer-offline'], app);
    ok(installed, 'npm install');

    fs.writeFileSync(path.join(app, 'echo.mjs'), ECHO_MJS);
    fs.writeFileSync(path.join(app, 'echo.cjs'), ECHO_CJS);
    for (const file of ['echo.mjs', 'echo.cjs']) {
      const result = ok(await run(process.execPath, [file], app, 20_000), `node ${file}`);
      const out = JSON.parse(result.stdout.trim()) as {
        reply: string;
        missing: string[];
        count: number;
        testing: boolean;
      };
      expect(out).toEqual({ reply: 'hello rxnet', missing: [], count: expect.any(Number), testing: true });
      expect(out.count).toBeGreaterThan(40);
    }

    fs.writeFileSync(path.join(app, 'typed.mts'), TYPED);
    fs.writeFileSync(path.join(app, 'typed.cts'), TYPED);
    fs.writeFileSync(path.join(app, 'typed.ts'), TYPED);
    fs.writeFileSync(path.join(app, 'former.mts'), CODE_WRITTEN_FOR_0_1);
    fs.writeFileSync(path.join(app, 'former.ts'), CODE_WRITTEN_FOR_0_1);
    fs.writeFileSync(
      path.join(app, 'tsconfig.node16.json'),
      tsconfig({ module: 'node16', moduleResolution: 'node16' }, ['typed.mts', 'typed.cts', 'former.mts']),
    );
    // The legacy resolver ignores "exports": rxnet/testing is found through "typesVersions".
    fs.writeFileSync(
      path.join(app, 'tsconfig.node10.json'),
      tsconfig({ module: 'commonjs', moduleResolution: 'node' }, ['typed.ts', 'former.ts']),
    );
    // Every declaration file shipped, reachable from the entry points or not: with stripInternal,
    // one referring to a stripped @internal declaration would fail here.
    const dist = path.join(app, 'node_modules/rxnet/dist');
    const declarations = filesUnder(dist, '.d.ts');
    fs.writeFileSync(
      path.join(app, 'tsconfig.dts.json'),
      tsconfig(
        { module: 'commonjs', moduleResolution: 'node' },
        declarations.map((f) => path.join(dist, f)),
      ),
    );
    for (const project of ['tsconfig.node16.json', 'tsconfig.node10.json', 'tsconfig.dts.json']) {
      ok(await run(process.execPath, [TSC, '-p', project], app), `tsc -p ${project}`);
    }

    // @internal declarations are not shipped: the .d.ts keep none, e.g. not the operator-subscriber base.
    expect(filesUnder(path.join(ROOT, 'lib'), '.ts').some((f) => /@internal/.test(read(ROOT, 'lib', f)))).toBe(true);
    expect(declarations.filter((f) => /@internal/.test(read(dist, f)))).toEqual([]);
    expect(declarations.filter((f) => /\bclass OperatorSubscriber\b/.test(read(dist, f)))).toEqual([]);
    expect(read(ROOT, 'lib/util/OperatorSubscriber.ts')).toContain('@internal');
  }, 120_000);
});
