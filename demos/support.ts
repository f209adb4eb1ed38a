// Shared bits of the demos: flag parsing, logging and ending cleanly on Ctrl-C.
import { parseArgs } from 'util';
import type { Subscription } from 'rxjs';

/** Parses `--port N` (and the given string flags) with a default port. */
export function demoArgs(
  argv: string[],
  defaultPort: number,
  extra: Record<string, { type: 'string' | 'boolean'; default?: string | boolean }> = {},
): { port: number; values: Record<string, string | boolean | undefined> } {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, ...extra },
    allowPositionals: false,
  });
  const port = values.port === undefined ? defaultPort : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer in [0, 65535], got ${String(values.port)}`);
  }
  return { port, values: values as Record<string, string | boolean | undefined> };
}

/** The integer value of flag `name`, which must lie in [min, max]. */
export function integerFlag(name: string, text: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer in [${min}, ${max}], got ${String(text)}`);
  }
  return value;
}

/** Ends `subscription` on the first Ctrl-C (SIGINT) or SIGTERM; the process exits when nothing is left open. */
export function stopOnSignal(subscription: Subscription, onStop?: () => void): void {
  const stop = () => {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    onStop?.();
    subscription.unsubscribe();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  subscription.add(() => {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  });
}

/**
 * Graceful, then forced: the first Ctrl-C (SIGINT) or SIGTERM aborts `shutdown` (the server's
 * graceful shutdown) after printing `message`; the next one ends `subscription` at once.
 */
export function shutDownOnSignals(subscription: Subscription, shutdown: AbortController, message: string): void {
  const stop = () => {
    if (!shutdown.signal.aborted) {
      console.log(message);
      shutdown.abort();
    } else {
      subscription.unsubscribe();
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  subscription.add(() => {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  });
}

export type Log = (line: string) => void;
export const consoleLog: Log = (line) => console.log(line);
