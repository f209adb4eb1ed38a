// The lines a doc example run by spec/docs/server-examples.spec.ts prints about its server (see exampleShim.ts).

/** Starts every line the shim prints; the rest of the line is `<what> <JSON>`. */
export const MARK = 'RXNET-EXAMPLE';

export type ExampleMarker =
  /** The server is bound (always 127.0.0.1 and a free port), and whether it reads a PROXY header first. */
  | { what: 'listening'; port: number; proxyProtocol: boolean }
  /** An accepted connection closed (a peer that reset at once has no port left to tell). */
  | { what: 'disconnect' }
  /** A hub member joined; `port` is its (PROXY-reported, when proxied) client port. */
  | { what: 'join'; port: number }
  /** The `listen` subscription ended: the server is closed. */
  | { what: 'closed' };

export function formatMarker(marker: ExampleMarker): string {
  const { what, ...data } = marker;
  return `${MARK} ${what} ${JSON.stringify(data)}\n`;
}

/** The markers in a child's output, in order. */
export function parseMarkers(output: string): ExampleMarker[] {
  const markers: ExampleMarker[] = [];
  const line = new RegExp(`^${MARK} (\\w+) (\\{.*\\})$`, 'gm');
  for (let m = line.exec(output); m; m = line.exec(output)) {
    markers.push({ what: m[1], ...JSON.parse(m[2]) } as ExampleMarker);
  }
  return markers;
}
