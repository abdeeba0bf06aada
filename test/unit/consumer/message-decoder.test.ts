import { describe, expect, it } from 'vitest';
import { decodeReadingsMessage } from '../../../src/consumer/message-decoder.js';
import { metaToHeaders } from '../../../src/core/message.js';
import { appendReadings, copyChunks, emptyRows } from '../../../src/consumer/readings-rows.js';

const headers = metaToHeaders({
  sourceKey: 'BC:6A:29:D0:F5:C8',
  account: 'D0000591',
  receivedAt: 1_700_000_000_000,
  readingCount: 1,
  valueCount: 2,
});
const raw = (body: string, h: Record<string, unknown> | undefined = headers) => ({
  content: Buffer.from(body),
  headers: h,
  messageId: 'm1',
  timestamp: undefined,
});

describe('decodeReadingsMessage', () => {
  it('accepts an array or a single reading and keeps the headers', () => {
    const one =
      '{"did":12,"values":[{"p":402,"v":191892.0},{"p":404,"v":70010}],"sqn":2152,"ts":"2015-04-21T23:15:00+00:00"}';
    const a = decodeReadingsMessage(raw(`[${one}]`), 'Q');
    const b = decodeReadingsMessage(raw(one), 'Q');
    expect(a).toEqual(b);
    expect(a).toMatchObject({
      ok: true,
      message: {
        messageId: 'm1',
        sourceKey: 'BC:6A:29:D0:F5:C8',
        account: 'D0000591',
        receivedAt: 1_700_000_000_000,
        valueCount: 2,
        readings: [{ did: '12', sqn: 2152 }],
      },
    });
  });

  it('says why a message can never be stored', () => {
    const bad = (body: string, h?: Record<string, unknown>) => {
      const d = decodeReadingsMessage(raw(body, h ?? headers), 'Q');
      return d.ok ? 'ok' : d.reason;
    };
    expect(bad('{oops')).toMatch(/not JSON/);
    expect(bad('[]')).toMatch(/no readings/);
    expect(bad('[{"did":"1","values":[{"p":1,"v":1}],"ts":"2015-04-21"}]')).toMatch(
      /reading 0: ts/,
    );
    expect(
      bad('[{"did":"1","values":[{"p":9999999999,"v":1}],"ts":"2015-04-21T00:00:00Z"}]'),
    ).toMatch(/out of range/);
    expect(
      bad('[{"did":"a\\u0000b","values":[{"p":1,"v":1}],"ts":"2015-04-21T00:00:00Z"}]'),
    ).toMatch(/NUL/);
    expect(bad('[{"did":"1","values":[{"p":1,"v":1}],"ts":"2015-04-21T00:00:00Z"}]', {})).toMatch(
      /x-source-key/,
    );
  });

  it('falls back to the queue account and the AMQP timestamp', () => {
    const d = decodeReadingsMessage(
      {
        content: Buffer.from('{"did":"1","values":[{"p":1,"v":1}],"ts":"2015-04-21T00:00:00Z"}'),
        headers: { 'x-source-key': 'K' },
        messageId: undefined,
        timestamp: 1_600_000_000,
      },
      'ACC',
    );
    expect(d).toMatchObject({
      ok: true,
      message: { account: 'ACC', receivedAt: 1_600_000_000_000 },
    });
  });
});

describe('copy rows', () => {
  it('one row per value, COPY text escaped, null sqn as \\N', () => {
    const rows = emptyRows();
    appendReadings(
      rows,
      'K\t1',
      [
        {
          did: 'a\\b\nc',
          values: [
            { p: 1, v: 1.5 },
            { p: 2, v: -3 },
          ],
          ts: '2015-04-21T00:00:00Z',
        },
      ],
      0,
    );
    const text = Buffer.concat([...copyChunks(rows)]).toString();
    expect(text.split('\n').filter(Boolean)).toEqual([
      'K\\t1\ta\\\\b\\nc\t1\t2015-04-21T00:00:00Z\t1.5\t\\N\t1970-01-01T00:00:00.000Z',
      'K\\t1\ta\\\\b\\nc\t2\t2015-04-21T00:00:00Z\t-3\t\\N\t1970-01-01T00:00:00.000Z',
    ]);
  });
});
