// Code written for rxnet 0.1 keeps compiling: every name 0.1 exported is still exported, a renamed one as a
// deprecated alias of its new name. The package spec compiles the same code against the built .d.ts.
import * as path from 'path';
import * as ts from 'typescript';
import { CODE_WRITTEN_FOR_0_1, EXPORTED_IN_0_1, FORMER_NAMES } from './formerNames';

const ROOT = path.resolve(__dirname, '../..');
const SAMPLE = path.join(ROOT, 'spec', 'docs', '.samples', 'writtenFor01.ts');

/** One program: both entry points, and the 0.1 code importing them as `rxnet` and `rxnet/testing`. */
function program(): ts.Program {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    baseUrl: ROOT,
    paths: { rxnet: ['lib/index.ts'], 'rxnet/testing': ['lib/testing/index.ts'] },
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile } = host;
  host.fileExists = (f) => f === SAMPLE || fileExists.call(host, f);
  host.readFile = (f) => (f === SAMPLE ? CODE_WRITTEN_FOR_0_1 : readFile.call(host, f));
  const entries = Object.keys(EXPORTED_IN_0_1).map((entry) => path.join(ROOT, entry));
  return ts.createProgram([...entries, SAMPLE], options, host);
}

describe('names of rxnet 0.1', () => {
  let checker: ts.TypeChecker;
  let built: ts.Program;
  const exportsOf = (entry: string): Map<string, ts.Symbol> => {
    const module = checker.getSymbolAtLocation(built.getSourceFile(path.join(ROOT, entry))!)!;
    return new Map(checker.getExportsOfModule(module).map((s) => [s.name, s]));
  };

  beforeAll(() => {
    built = program();
    checker = built.getTypeChecker();
  });

  it.each(Object.keys(EXPORTED_IN_0_1))('are all still exported by %s', (entry) => {
    const now = exportsOf(entry);
    expect(EXPORTED_IN_0_1[entry].filter((name) => !now.has(name))).toEqual([]);
  });

  it.each(Object.keys(FORMER_NAMES))(
    'renamed in %s are @deprecated, linking to the name that replaced them',
    (entry) => {
      const now = exportsOf(entry);
      const links = Object.keys(FORMER_NAMES[entry]).map((former) => {
        const exported = now.get(former);
        if (!exported) return [former, 'not exported'];
        const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
        const tag = symbol.getJsDocTags(checker).find((t) => t.name === 'deprecated');
        return [former, tag?.text?.find((part) => part.kind === 'linkName')?.text ?? 'no @deprecated {@link}'];
      });
      expect(Object.fromEntries(links)).toEqual(FORMER_NAMES[entry]);
      const replacements = Object.values(FORMER_NAMES[entry]).map((name) => name.split('.')[0]);
      expect(replacements.filter((name) => !now.has(name))).toEqual([]);
    },
  );

  it('in code written for 0.1 type-check against the current API', () => {
    const errors = ts
      .getPreEmitDiagnostics(built, built.getSourceFile(SAMPLE))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(errors).toEqual([]);
  });

  it('are all used by that code, so removing one breaks it', () => {
    for (const [entry, renamed] of Object.entries(FORMER_NAMES)) {
      const specifier = entry === 'lib/index.ts' ? 'rxnet' : 'rxnet/testing';
      const imports = new RegExp(`import (?:type )?\\{([^}]*)\\} from '${specifier}'`).exec(CODE_WRITTEN_FOR_0_1)![1];
      const imported = imports.split(',').map((name) => name.replace(/^\s*(type\s+)?/, '').trim());
      expect(Object.keys(renamed).filter((former) => !imported.includes(former))).toEqual([]);
    }
  });
});
