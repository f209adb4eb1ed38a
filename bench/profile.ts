// Summarises a V8 .cpuprofile (from node --cpu-prof): the functions with the most self time.
import * as fs from 'fs';
import * as path from 'path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  where: string;
  /** Share of all samples spent in the function itself. */
  self: number;
}

/** Top `limit` functions by self time; `(idle)` is left out of the shares. */
export function summarizeProfile(file: string, limit = 15): ProfileEntry[] {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byKey = new Map<string, ProfileEntry & { hits: number }>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += hits;
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = byKey.get(key) ?? { name: functionName || '(anonymous)', where, self: 0, hits: 0 };
    entry.hits += hits;
    byKey.set(key, entry);
  }
  return [...byKey.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, limit)
    .map(({ name, where, hits }) => ({ name, where, self: total === 0 ? 0 : hits / total }));
}

function shorten(url: string): string {
  const file = url.replace(/^file:\/\//, '');
  const marker = `${path.sep}rxnet-bench${path.sep}`;
  const i = file.indexOf(marker);
  if (i >= 0) return file.slice(i + marker.length);
  const nm = file.lastIndexOf(`node_modules${path.sep}`);
  if (nm >= 0) return file.slice(nm + 'node_modules/'.length);
  return file;
}

/** Prints the summary of each profile file given. */
export function main(argv: string[]): void {
  for (const file of argv) {
    console.log(`\n${file}`);
    for (const e of summarizeProfile(file, 25)) {
      console.log(`${(e.self * 100).toFixed(1).padStart(6)}%  ${e.name}  ${e.where}`);
    }
  }
}

if (require.main === module) main(process.argv.slice(2));
