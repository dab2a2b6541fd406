/**
 * Matrix errors for requests that never reach koa: Node's HTTP parser refuses them (malformed HTTP, headers
 * or URL too large, a body that ends before its declared length, a header timeout) and emits `clientError`,
 * or they are `CONNECT` requests, which Node hands to a `connect` listener instead of the app. Without these
 * handlers Node answers with an empty body or closes the socket, so a client sees no `errcode`.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { MatrixErrcode } from '../errors.js';

/** A request line longer than this, when the headers overflow, is answered 414 rather than 431. */
const LONG_REQUEST_LINE = 8 * 1024;

interface ParserError extends Error {
  code?: string;
  rawPacket?: Buffer;
}

interface RawError {
  status: number;
  errcode: MatrixErrcode;
  error: string;
}

/** The Matrix error for one of Node's parser error codes (HPE_* from llhttp, ERR_HTTP_* from the server). */
export function rawErrorFor(err: ParserError): RawError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW': {
      const packet = err.rawPacket;
      const lineEnd = packet ? packet.indexOf(0x0a) : -1;
      const requestLine = lineEnd === -1 ? (packet?.length ?? 0) : lineEnd;
      return requestLine > LONG_REQUEST_LINE
        ? { status: 414, errcode: 'M_TOO_LARGE', error: 'Request URI too long' }
        : { status: 431, errcode: 'M_TOO_LARGE', error: 'Request headers too large' };
    }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, errcode: 'M_UNKNOWN', error: 'Request not received in time' };
    case 'HPE_INVALID_EOF_STATE':
      return { status: 400, errcode: 'M_UNRECOGNIZED', error: 'The request ended before its body did' };
    case 'HPE_INVALID_METHOD':
      return { status: 400, errcode: 'M_UNRECOGNIZED', error: 'Unknown HTTP method' };
    default:
      return { status: 400, errcode: 'M_UNRECOGNIZED', error: 'Malformed HTTP request' };
  }
}

/** Writes a complete HTTP/1.1 response with a Matrix error body, then closes the connection. */
export function writeRawError(socket: Duplex, error: RawError): void {
  const body = JSON.stringify({ errcode: error.errcode, error: error.error });
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      'Access-Control-Allow-Origin: *\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
    () => socket.destroy(),
  );
}

/** The server's `clientError` listener: answer with a Matrix error where a response can still be written. */
export function onClientError(err: ParserError, socket: Duplex): void {
  // A response already under way on this socket cannot be replaced; a reset peer cannot be answered.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  writeRawError(socket, rawErrorFor(err));
}

/** The server's `connect` listener: Axon is not a proxy. */
export function onConnect(_req: IncomingMessage, socket: Duplex): void {
  writeRawError(socket, { status: 405, errcode: 'M_UNRECOGNIZED', error: 'Method not allowed' });
}
