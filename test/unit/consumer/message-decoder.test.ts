import { describe, expect, it } from 'vitest';
import { decodeReadingsMessage } from '../../../src/consumer/message-decoder.js';
import { metaToHeaders } from '../../../src/core/message.js';
import { copyRows, valueRows } from '../../../src/consumer/readings-rows.js';
import { checkReadingsBody, type CheckedReadings } from '../../../src/core/readings-body.js';

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
    if (!a.ok || !b.ok) throw new Error('expected both to decode');
    expect(valueRows(a.message.body)).toEqual(valueRows(b.message.body));
    expect(valueRows(a.message.body)).toEqual([
      { device: '12', param: 402, ts: '2015-04-21T23:15:00+00:00', value: 191892, sqn: 2152 },
      { device: '12', param: 404, ts: '2015-04-21T23:15:00+00:00', value: 70010, sqn: 2152 },
    ]);
    expect(a).toMatchObject({
      ok: true,
      message: {
        messageId: 'm1',
        sourceKey: 'BC:6A:29:D0:F5:C8',
        account: 'D0000591',
        receivedAt: 1_700_000_000_000,
        valueCount: 2,
        body: { readings: 1, values: 2 },
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

function checked(body: string): CheckedReadings {
  const c = checkReadingsBody(Buffer.from(body));
  if (!c.ok) throw new Error(`invalid test body: ${c.reason}`);
  return c;
}

describe('copy rows', () => {
  it('one row per value, COPY text escaped, null sqn as \\N', () => {
    const body = checked(
      '[{"did":"a\\\\b\\nc","values":[{"p":1,"v":1.5},{"p":2,"v":-3}],"ts":"2015-04-21T00:00:00Z"}]',
    );
    const text = copyRows(body, 'K\t1', 0).toString();
    expect(text.split('\n').filter(Boolean)).toEqual([
      'K\\t1\ta\\\\b\\nc\t1\t2015-04-21T00:00:00Z\t1.5\t\\N\t1970-01-01T00:00:00.000Z',
      'K\\t1\ta\\\\b\\nc\t2\t2015-04-21T00:00:00Z\t-3\t\\N\t1970-01-01T00:00:00.000Z',
    ]);
  });

  it('cuts plain fields from the bytes and normalises the rest as JavaScript reads them', () => {
    const body = checked(
      '{"ts":"2015-04-21T00:00:00Z","sqn":-0,"did":12.50,"values":[{"v":1e3,"p":4.02e2},{"p":-0,"v":-0.0},{"p":7,"v":0.0000000000000000000001}],"x":[1,{"y":null}]}',
    );
    const rows = copyRows(body, 'K', 0)
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t').slice(1, 6));
    expect(rows).toEqual([
      ['12.5', '402', '2015-04-21T00:00:00Z', '1000', '0'],
      ['12.5', '0', '2015-04-21T00:00:00Z', '0', '0'],
      ['12.5', '7', '2015-04-21T00:00:00Z', '1e-22', '0'],
    ]);
  });

  it('takes non-ASCII and escaped device ids through JSON decoding', () => {
    const body = checked(
      '[{"did":"Zähler\\t1","values":[{"p":1,"v":2}],"sqn":null,"ts":"2015-04-21T00:00:00Z"}]',
    );
    const [row] = copyRows(body, 'K', 0).toString('utf8').split('\n');
    expect(row?.split('\t')[1]).toBe('Zähler\\t1');
    expect(valueRows(body)[0]?.device).toBe('Zähler\t1');
  });
});
