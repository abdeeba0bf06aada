#!/usr/bin/env node
// How a consumer should take messages from a queue: basic.get one at a time vs
// basic.consume with a prefetch window (what `ingest consume` does). Throwaway
// queue, loopback broker. Run: node bench/drain-mode.js [messages=20000] [readings=1]
import amqp from 'amqplib';

const N = Number(process.argv[2] ?? 20_000);
const READINGS = Number(process.argv[3] ?? 1);
const url = process.env.INGEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const body = Buffer.from(
  JSON.stringify(
    Array.from({ length: READINGS }, (_, i) => ({
      did: String(i),
      values: [
        { p: 402, v: 1 },
        { p: 404, v: 2 },
      ],
      ts: '2015-04-21T23:15:00+00:00',
    })),
  ),
);
const conn = await amqp.connect(url);
conn.connection.stream.setNoDelay(true);
const results = [];
for (const type of ['quorum', 'classic']) {
  const q = `bench.drain.${Date.now().toString(36)}.${type}`;
  const pub = await conn.createConfirmChannel();
  await pub.assertQueue(q, { durable: true, arguments: { 'x-queue-type': type } });
  const fill = async () => {
    for (let i = 0; i < N; i++) pub.sendToQueue(q, body, { persistent: true });
    await pub.waitForConfirms();
  };
  await fill();
  const getCh = await conn.createChannel();
  let t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const m = await getCh.get(q, { noAck: false });
    if (!m) break;
    getCh.ack(m);
  }
  results.push({
    type,
    mode: 'basic.get',
    msgPerSec: Math.round(N / ((performance.now() - t0) / 1000)),
  });
  await getCh.close();
  for (const prefetch of [64, 500]) {
    await fill();
    const ch = await conn.createChannel();
    await ch.prefetch(prefetch);
    t0 = performance.now();
    let tag;
    await new Promise((resolve) => {
      let n = 0;
      let pending = 0;
      void ch
        .consume(q, (m) => {
          n += 1;
          pending += 1;
          // Ack in groups, like the consumer does after each commit.
          if (pending >= Math.max(1, prefetch / 2) || n === N) {
            ch.ack(m, true);
            pending = 0;
          }
          if (n === N) resolve();
        })
        .then((ok) => (tag = ok.consumerTag));
    });
    results.push({
      type,
      mode: `consume, prefetch ${prefetch}`,
      msgPerSec: Math.round(N / ((performance.now() - t0) / 1000)),
    });
    if (tag) await ch.cancel(tag);
    await ch.close();
  }
  await pub.deleteQueue(q);
  await pub.close();
}
console.table(results);
await conn.close();
