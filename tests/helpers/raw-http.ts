/** Raw HTTP over a TCP socket, for requests fetch() refuses to send (malformed, CONNECT, oversized). */
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  readonly text: string;
}

/** Sends `data`, half-closes after `endAfterMs`, and parses the first response (status 0: none). */
export function rawRequest(baseUrl: string, data: string | Buffer, endAfterMs = 200): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    const finish = (): void => {
      clearTimeout(halfClose);
      clearTimeout(giveUp);
      resolve(parseResponse(Buffer.concat(chunks).toString('utf8')));
    };
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.write(data);
    const halfClose = setTimeout(() => socket.end(), endAfterMs);
    const giveUp = setTimeout(() => socket.destroy(), 5000);
  });
}

export function parseResponse(raw: string): RawResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (!raw.startsWith('HTTP/1.1 ') || headEnd === -1)
    return { status: 0, headers: {}, body: undefined, text: raw };
  const [statusLine = '', ...lines] = raw.slice(0, headEnd).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const text = raw.slice(headEnd + 4, headEnd + 4 + length);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body, text };
}
