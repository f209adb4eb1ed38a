// The ```ts samples of README.md, docs/*.md and lib/'s TSDoc, as the doc specs read them.
import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '../..');

export interface Sample {
  /** Where the sample comes from (`file:line`), for failure messages and test names. */
  origin: string;
  code: string;
}

/** The ```ts blocks of a Markdown text, or of the @example tags of a TSDoc comment. */
export function tsBlocks(text: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const fence = /^```ts\s*$([\s\S]*?)^```\s*$/gm;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    blocks.push({ line: text.slice(0, m.index).split('\n').length, code: m[1] });
  }
  return blocks;
}

/** The ```ts blocks of a Markdown file (relative to the repository root). */
export function markdownSamples(file: string): Sample[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return tsBlocks(text).map(({ line, code }) => ({ origin: `${file}:${line}`, code }));
}

/** The ```ts blocks of the TSDoc @example tags of a TypeScript file. */
export function tsdocSamples(file: string): Sample[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const samples: Sample[] = [];
  const comment = /\/\*\*[\s\S]*?\*\//g;
  for (let m = comment.exec(text); m; m = comment.exec(text)) {
    const at = m[0].indexOf('@example');
    if (at === -1) continue;
    const body = m[0]
      .slice(at)
      .split('\n')
      .map((l) => l.replace(/^\s*\*( |$)/, ''))
      .join('\n');
    const line = text.slice(0, m.index).split('\n').length;
    for (const block of tsBlocks(body)) samples.push({ origin: `${file}:${line} @example`, code: block.code });
  }
  return samples;
}

/** Files under `dir` (relative to the root, recursively) whose names end with `suffix`, sorted. */
export function filesUnder(dir: string, suffix: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(suffix))
    .map((f) => path.join(dir, f))
    .sort();
}

/** Every ```ts sample of README.md and docs/*.md, in that order. */
export function guideSamples(): Sample[] {
  return ['README.md', ...filesUnder('docs', '.md')].flatMap(markdownSamples);
}
