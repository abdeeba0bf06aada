/**
 * The readings body: kept as the raw Buffer (it becomes the message body as is),
 * gunzipped when Content-Encoding says gzip (the limit applies to the decoded
 * size too), parsed once.
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { IngestError, errorMessage } from '../core/errors.js';

const gunzipAsync = promisify(gunzip);

export interface ReadingsBody {
  raw: Buffer;
  value: unknown;
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
      throw new IngestError('BODY_TOO_LARGE', `decoded body over the limit of ${limit} bytes`);
    }
    throw new IngestError('VALIDATION', `body is not valid gzip: ${errorMessage(err)}`);
  }
}

/** Only JSON is accepted: every other content type gets 415 from fastify. */
export function installReadingsParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit },
    (req: FastifyRequest, body: Buffer, done: (err: Error | null, value?: unknown) => void) => {
      decode(req, body, bodyLimit).then(
        (raw) => {
          let value: unknown;
          try {
            value = JSON.parse(raw.toString('utf8'));
          } catch (err) {
            return done(new IngestError('VALIDATION', `malformed JSON: ${errorMessage(err)}`));
          }
          done(null, { raw, value } satisfies ReadingsBody);
        },
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    },
  );
}
