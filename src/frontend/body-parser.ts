/**
 * The readings body: kept as the raw Buffer (it becomes the message body as is),
 * gunzipped when Content-Encoding says gzip (the limit applies to the decoded
 * size too), checked once (core/readings-body: a byte scan, JSON.parse only
 * when the scan cannot vouch for it).
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { IngestError, errorMessage } from '../core/errors.js';
import {
  checkReadingsBody,
  chunkReadings,
  type BodyCheck,
  type BodyChunk,
} from '../core/readings-body.js';

const gunzipAsync = promisify(gunzip);

/** A valid body, cut into the messages it is published as. */
export interface AcceptedReadings {
  ok: true;
  readings: number;
  values: number;
  chunks: BodyChunk[];
}

export interface ReadingsBody {
  raw: Buffer;
  /** Valid, or the first bad reading (malformed JSON is refused by the parser). */
  checked: AcceptedReadings | Extract<BodyCheck, { kind: 'invalid' }>;
}

export function isReadingsBody(x: unknown): x is ReadingsBody {
  return typeof x === 'object' && x !== null && Buffer.isBuffer((x as ReadingsBody).raw);
}

async function decode(req: FastifyRequest, body: Buffer, limit: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new IngestError(
      'UNSUPPORTED_MEDIA_TYPE',
      `unsupported Content-Encoding "${encoding}" (use gzip or none)`,
    );
  }
  try {
    return await gunzipAsync(body, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new IngestError(
        'BODY_TOO_LARGE',
        `decoded body over the limit of ${limit} bytes (INGEST_BODY_LIMIT / --body-limit)`,
      );
    }
    throw new IngestError('VALIDATION', `body is not valid gzip: ${errorMessage(err)}`);
  }
}

/** Only JSON is accepted: every other content type gets 415 from fastify. */
export function installReadingsParser(
  app: FastifyInstance,
  limits: { bodyLimit: number; chunkReadings: number },
): void {
  const { bodyLimit } = limits;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit },
    (req: FastifyRequest, body: Buffer, done: (err: Error | null, value?: unknown) => void) => {
      decode(req, body, bodyLimit).then(
        (raw) => {
          let body: ReadingsBody;
          try {
            // Transient layout: the chunks are cut right here, before any other body is checked.
            const checked = checkReadingsBody(raw, { transient: true });
            if (!checked.ok && checked.kind === 'malformed') {
              return done(new IngestError('VALIDATION', `malformed JSON: ${checked.reason}`));
            }
            if (!checked.ok && checked.kind === 'too-large') {
              return done(new IngestError('BODY_TOO_LARGE', checked.reason));
            }
            body = {
              raw,
              checked: checked.ok
                ? {
                    ok: true,
                    readings: checked.readings,
                    values: checked.values,
                    chunks: chunkReadings(checked, limits.chunkReadings),
                  }
                : checked,
            };
          } catch (err) {
            return done(err instanceof Error ? err : new Error(String(err)));
          }
          done(null, body);
        },
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    },
  );
}
