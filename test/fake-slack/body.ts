/**
 * Reads a Web API request body the ways Slack accepts one: form-encoded (what WebClient
 * sends), JSON (what response_url posts and some clients send), or multipart (the file
 * upload step of files.uploadV2).
 */
import type { IncomingMessage } from 'node:http';

export type Body = Record<string, unknown>;

/** The raw bytes of a request. */
export async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parses `raw` according to its content type; multipart file parts become UTF-8 text. */
export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<Body> {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (raw.length === 0) return {};

  if (type === 'application/json') return JSON.parse(raw.toString('utf8')) as Body;
  if (type === 'multipart/form-data') return parseMultipart(raw, contentType ?? '');
  return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<Body> {
  // undici's Response implements the multipart parser fetch uses, so the fake reads exactly
  // what WebClient's FormData wrote.
  const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  const body: Body = {};
  for (const [key, value] of form.entries()) {
    body[key] = typeof value === 'string' ? value : await value.text();
  }
  return body;
}

/** Form-encoded bodies carry objects (blocks, files) as JSON strings: decode them. */
export function jsonField(body: Body, key: string): unknown {
  const value = body[key];
  if (typeof value !== 'string') return value;

  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** A field as a string, whatever the encoding; undefined when absent or empty. */
export function stringField(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
