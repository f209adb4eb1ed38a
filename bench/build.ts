// Transpiles lib/, bench/ and demos/ to plain JavaScript once, so server and load-generator children start in milliseconds.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');
/** Under node_modules so that `require('rxjs')` from the output resolves to the project's copy. */
export const BUILD_DIR = path.join(ROOT, 'node_modules', '.cache', 'rxnet-bench');

/**
 * Writes `lib/**.ts`, `bench/**.ts` and `demos/**.ts` (the resp workload runs a demo) as CommonJS
 * ES2022 into {@link BUILD_DIR} (type-free transpilation, like `ts-node --transpile-only`) and
 * returns the directory. The children then run on plain `node`, with the same code the library
 * ships, and no compiler in their heap.
 */
export function buildForBench(): string {
  for (const dir of ['lib', 'bench', 'demos']) {
    for (const file of listTs(path.join(ROOT, dir))) {
      const source = fs.readFileSync(file, 'utf8');
      const output = ts.transpileModule(source, {
        fileName: file,
        compilerOptions: {
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.CommonJS,
          esModuleInterop: true,
          sourceMap: false,
        },
      });
      const out = path.join(BUILD_DIR, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, output.outputText);
    }
  }
  return BUILD_DIR;
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}
