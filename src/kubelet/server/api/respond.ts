/** Response helpers of the kubelet API: metav1 Status bodies for errors, JSON and plain text. */
import type { ServerResponse } from 'node:http';

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  500: 'InternalError',
  501: 'NotImplemented',
  503: 'ServiceUnavailable',
};

/** A metav1 Status failure object. */
export function statusBody(code: number, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? 'Unknown', code };
}

/** Ends the response with a Status body (when headers were not sent yet; otherwise just ends it). */
export function sendStatus(res: ServerResponse, code: number, message: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(statusBody(code, message));
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** Ends the response with a JSON body. */
export function sendJson(res: ServerResponse, value: unknown, code = 200): void {
  const body = JSON.stringify(value);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** Ends the response with plain text. */
export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Raw HTTP error response on an upgrade socket (no ServerResponse there). */
export function rawResponse(code: number, statusText: string, body: string, contentType = 'text/plain; charset=utf-8'): string {
  return `HTTP/1.1 ${code} ${statusText}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
