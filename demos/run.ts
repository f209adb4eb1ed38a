// `npm run demo -- NAME [--port N ...]`: runs demos/NAME.ts.
import * as fs from 'fs';
import * as path from 'path';

const demos = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'support.ts'].includes(f))
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...rest] = process.argv.slice(2);
if (!name || !demos.includes(name)) {
  console.error(`usage: npm run demo -- NAME [--port N]\n  NAME is one of: ${demos.join(', ')}`);
  process.exit(name ? 2 : 0);
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const demo = require(path.join(__dirname, name)) as { main(argv: string[]): Promise<void> };
demo.main(rest).catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
