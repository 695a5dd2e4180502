import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './status.js';
import type { JsonObject } from './json.js';
import type { UserInfo } from './certificates/auth.js';

/** One parsed request as the handlers see it. */
export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  raw: IncomingMessage;
  res: ServerResponse;
  /** The user a client certificate authenticated (what authorization and NodeRestriction look at), if any. */
  user?: UserInfo;
}

/** Reads the whole request body (bounded at 3 MiB like the apiserver's limit). */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 3 * 1024 * 1024) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Sends a JSON body with the apiserver's headers. */
export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(code, {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
    'content-length': data.length,
  });
  res.end(data);
}

/** Sends an ApiError (or any error as a 500 InternalError Status). */
export function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
  sendJson(res, e.code, e.toStatus());
}

/** Parses a JSON request body as an object; malformed → 400 like 24-create-malformed-json.txt. */
export function parseObject(body: Buffer, kind: string): JsonObject {
  const text = body.toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const head = text.length > 30 ? `${text.slice(0, 30)} ...` : text;
    const msg = e instanceof Error ? e.message : '';
    const pos = Number(/position (\d+)/.exec(msg)?.[1] ?? -1);
    const atEnd = /end of JSON/i.test(msg) || pos >= text.trimEnd().length;
    const why = atEnd ? 'unexpected end of JSON input' : `invalid character looking for beginning of value at offset ${pos}`;
    throw new ApiError(400, 'BadRequest', `the object provided is unrecognized (must be of type ${kind}): couldn't get version/kind; json parse error: ${why} (${head})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ApiError(400, 'BadRequest', `the object provided is unrecognized (must be of type ${kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`);
  }
  return v as JsonObject;
}

/** Parses any JSON body (patch documents). */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new ApiError(400, 'BadRequest', `error decoding patch: ${e instanceof Error ? e.message : String(e)}`);
  }
}
