// Every ```ts sample in docs/*.md and README.md, and every TSDoc @example in lib/, type-checks against the current API.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { ROOT, filesUnder, guideSamples, tsBlocks, tsdocSamples, type Sample } from './markdown';

/** Type-checks the samples as separate modules, `rxnet` and `rxnet/testing` resolving to lib/. */
function typeCheck(samples: Sample[]): string[] {
  const dir = path.join(ROOT, 'spec', 'docs', '.samples');
  const virtual = new Map<string, string>();
  samples.forEach((sample, i) => {
    // `export {}` keeps each sample a module of its own, so their names never clash.
    virtual.set(path.join(dir, `sample${i}.ts`), `${sample.code}\nexport {};\n`);
  });
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    lib: ['lib.es2022.d.ts'],
    types: ['node', 'jest'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    baseUrl: ROOT,
    paths: {
      rxnet: ['lib/index.ts'],
      'rxnet/testing': ['lib/testing/index.ts'],
      'rxnet/otel': ['lib/observe/otelMetrics.ts'],
    },
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, language, onError, create) => {
    const text = virtual.get(f);
    return text !== undefined
      ? ts.createSourceFile(f, text, language)
      : getSourceFile.call(host, f, language, onError, create);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && virtual.has(d.file.fileName))
    .map((d) => {
      const index = Number(/sample(\d+)\.ts$/.exec(d.file!.fileName)![1]);
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${samples[index].origin} (+${line}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

describe('code samples', () => {
  it('in docs/*.md and README.md type-check against the current API', () => {
    const samples = guideSamples();
    expect(samples.length).toBeGreaterThan(10);
    expect(typeCheck(samples)).toEqual([]);
  });

  it('in docs/testing.md quote spec/docs/guide-testing.spec.ts, the spec that runs them, as it is', () => {
    const spec = fs
      .readFileSync(path.join(ROOT, 'spec/docs/guide-testing.spec.ts'), 'utf8')
      .split('\n')
      .slice(1) // the file's own summary line
      .join('\n')
      .replace(/from '\.\.\/\.\.\/lib\/testing'/g, "from 'rxnet/testing'")
      .replace(/from '\.\.\/\.\.\/lib'/g, "from 'rxnet'");
    const blocks = tsBlocks(fs.readFileSync(path.join(ROOT, 'docs/testing.md'), 'utf8')).map((b) => b.code.trim());
    expect(blocks).toContain(spec.trim());
  });

  it('in the TSDoc @example tags of lib/ type-check against the current API', () => {
    const samples = filesUnder('lib', '.ts').flatMap(tsdocSamples);
    expect(samples.length).toBeGreaterThan(20);
    expect(typeCheck(samples)).toEqual([]);
  });
});
