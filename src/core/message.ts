/**
 * The contract between the frontend (publisher) and consumers: one persistent
 * message per accepted request (or chunk), its body the validated readings as
 * JSON (an array, or a single reading object), described by these headers.
 */
import { createHash } from 'node:crypto';

export const MESSAGE_TYPE = 'readings';

export const HEADERS = {
  sourceKey: 'x-source-key',
  account: 'x-account',
  receivedAt: 'x-received-at',
  readingCount: 'x-reading-count',
  valueCount: 'x-value-count',
  chunk: 'x-chunk',
} as const;

export interface ReadingsMessageMeta {
  sourceKey: string;
  account: string;
  /** Receive time, ms since the epoch. */
  receivedAt: number;
  readingCount: number;
  valueCount: number;
  /** "i/n" when a request was split into n messages. */
  chunk?: string;
}

/** Deterministic id: the same gateway sending the same bytes gets the same id. */
export function readingsMessageId(sourceKey: string, body: Buffer | string): string {
  return createHash('sha256')
    .update(sourceKey)
    .update('\n')
    .update(body)
    .digest('hex')
    .slice(0, 32);
}

export function metaToHeaders(meta: ReadingsMessageMeta): Record<string, string | number> {
  const h: Record<string, string | number> = {
    [HEADERS.sourceKey]: meta.sourceKey,
    [HEADERS.account]: meta.account,
    [HEADERS.receivedAt]: meta.receivedAt,
    [HEADERS.readingCount]: meta.readingCount,
    [HEADERS.valueCount]: meta.valueCount,
  };
  if (meta.chunk !== undefined) h[HEADERS.chunk] = meta.chunk;
  return h;
}

/** The AMQP properties every readings message is published with. */
export interface ReadingsMessageOptions {
  persistent: true;
  contentType: 'application/json';
  type: typeof MESSAGE_TYPE;
  messageId: string;
  headers: Record<string, string | number>;
}

export function readingsMessageOptions(
  body: Buffer | string,
  meta: ReadingsMessageMeta,
): ReadingsMessageOptions {
  return {
    persistent: true,
    contentType: 'application/json',
    type: MESSAGE_TYPE,
    messageId: readingsMessageId(meta.sourceKey, body),
    headers: metaToHeaders(meta),
  };
}

/** Read the headers back; tolerant of missing ones (older or hand-made messages). */
export function headersToMeta(
  headers: Record<string, unknown> | undefined,
): Partial<ReadingsMessageMeta> {
  const h = headers ?? {};
  const num = (x: unknown): number | undefined => {
    const n = typeof x === 'number' ? x : typeof x === 'string' ? Number(x) : NaN;
    return Number.isFinite(n) ? n : undefined;
  };
  const str = (x: unknown): string | undefined =>
    typeof x === 'string' ? x : Buffer.isBuffer(x) ? x.toString() : undefined;
  const meta: Partial<ReadingsMessageMeta> = {};
  const sourceKey = str(h[HEADERS.sourceKey]);
  if (sourceKey !== undefined) meta.sourceKey = sourceKey;
  const account = str(h[HEADERS.account]);
  if (account !== undefined) meta.account = account;
  const receivedAt = num(h[HEADERS.receivedAt]);
  if (receivedAt !== undefined) meta.receivedAt = receivedAt;
  const readingCount = num(h[HEADERS.readingCount]);
  if (readingCount !== undefined) meta.readingCount = readingCount;
  const valueCount = num(h[HEADERS.valueCount]);
  if (valueCount !== undefined) meta.valueCount = valueCount;
  const chunk = str(h[HEADERS.chunk]);
  if (chunk !== undefined) meta.chunk = chunk;
  return meta;
}
