// The layout of lib/ (issue 19, one concept, one folder), read from the file tree: the top level, file sizes, named
// exports, a spec for every file with runtime code, no module-level mutable state, no RxJS internals.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');
const LIB = path.join(ROOT, 'lib');

/** The most lines a file of lib/ may have. */
const MAX_LINES = 450;

/**
 * errors.ts is the one catalogue of every error class (STYLE keeps them together at the top), each a few lines of
 * code under its TSDoc and example; it may grow to this many lines before it is split.
 */
const MAX_ERRORS_LINES = 800;

/**
 * Module-level `let`s that are known and kept, each a counter handing out unique numbers rather than data passed
 * between layers. Listed here so that a new one fails this spec; an entry whose line is gone fails it too.
 */
const KNOWN_MODULE_LETS = [
  // Connection ids, unique across socket and memory connections (MemoryConnection takes them from here too).
  'core/SocketConnection.ts: let lastId = 0;',
  // The client port a memory connection pair reports, as an operating system would pick one.
  'testing/connectionPair.ts: let lastEphemeralPort = 49151;',
];

/** Every .ts file under `dir`, as paths relative to lib/ with forward slashes, sorted. */
function libFiles(dir = LIB): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...libFiles(full));
    else if (entry.name.endsWith('.ts')) files.push(path.relative(LIB, full).split(path.sep).join('/'));
  }
  return files.sort();
}

const read = (file: string) => fs.readFileSync(path.join(LIB, file), 'utf8');
/** Lines as `wc -l` counts them, a last line without a newline included. */
const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/**
 * Whether a file has runtime code: it declares a function (with a body), a class, a method, an accessor, an arrow
 * function or a function expression. Types, interfaces, re-exports and constants alone do not count.
 */
function hasRuntimeCode(file: string): boolean {
  const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const visit = (node: ts.Node): boolean =>
    (ts.isFunctionDeclaration(node) && node.body !== undefined) ||
    ts.isClassDeclaration(node) ||
    ts.isClassExpression(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node) ||
    ts.forEachChild(node, visit) === true;
  return visit(source);
}

/** The specs that may cover a lib file: the mirrored unit spec, or an integration spec named after it. */
function specsOf(file: string): string[] {
  const base = path.posix.basename(file, '.ts');
  return [`spec/${file.replace(/\.ts$/, '.spec.ts')}`, `spec/integration/${base}.spec.ts`];
}

describe('the layout of lib/', () => {
  const files = libFiles();

  it('holds only index.ts, errors.ts and types.ts at the top, and one folder per concept', () => {
    const entries = fs.readdirSync(LIB, { withFileTypes: true });
    const top = entries.filter((e) => !e.isDirectory()).map((e) => e.name);
    const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
    expect(top.sort()).toEqual(['errors.ts', 'index.ts', 'types.ts']);
    expect(folders.sort()).toEqual(
      [
        'admission',
        'client',
        'codec',
        'core',
        'framing',
        'hub',
        'observe',
        'proxy',
        'shaping',
        'testing',
        'time',
        'udp',
        'util',
      ].sort(),
    );
  });

  it(`has no file over ${MAX_LINES} lines (the error catalogue: ${MAX_ERRORS_LINES})`, () => {
    const long = files
      .map((file) => ({ file, lines: lineCount(read(file)) }))
      .filter(({ file, lines }) => lines > (file === 'errors.ts' ? MAX_ERRORS_LINES : MAX_LINES))
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it('names what its entry points export: no export * in lib/index.ts or lib/testing/index.ts', () => {
    for (const entry of ['index.ts', 'testing/index.ts']) {
      const stars = read(entry)
        .split('\n')
        .filter((line) => /^\s*export\s*\*/.test(line));
      expect({ entry, stars }).toEqual({ entry, stars: [] });
    }
  });

  it('has a spec for every file with runtime code: spec/<path>.spec.ts, or spec/integration/<name>.spec.ts', () => {
    const withCode = files.filter(hasRuntimeCode);
    // The rule holds for what is known to be types and constants only, and finds code in the rest.
    expect(files.filter((file) => !withCode.includes(file))).toEqual(
      expect.arrayContaining(['index.ts', 'types.ts', 'testing/index.ts', 'framing/Framer.ts']),
    );
    expect(withCode).toEqual(expect.arrayContaining(['errors.ts', 'util/toBuffer.ts', 'codec/struct/field.ts']));
    const missing = withCode
      .filter((file) => !specsOf(file).some((spec) => fs.existsSync(path.join(ROOT, spec))))
      .map((file) => `${file}: none of ${specsOf(file).join(', ')}`);
    expect(missing).toEqual([]);
  });

  it('keeps no mutable state at module level: no line of lib/ starts with let or var, but the known counters', () => {
    const found = files.flatMap((file) =>
      read(file)
        .split('\n')
        .filter((line) => /^(export\s+)?(let|var)\s/.test(line))
        .map((line) => `${file}: ${line.trim()}`),
    );
    expect(found).toEqual(KNOWN_MODULE_LETS);
  });

  it("imports nothing from rxjs/internal (RxJS 8 removes it; lib/ uses RxJS's public API only)", () => {
    const internal = files.filter((file) => /['"]rxjs\/internal\b/.test(read(file)));
    expect(internal).toEqual([]);
  });
});
