/** `ingest queues --watch`: the queues table, refreshed live. Keys: q quits, p pauses, s cycles the sort. */
import { Box, Text, useInput } from 'ink';
import { useState } from 'react';
import type { QueueSort, QueuesSnapshot } from '../admin/queues-status.js';
import { selectRows } from '../admin/queues-status.js';
import { clock, fmtAge, fmtCount } from './format.js';
import { usePoll } from './hooks/usePoll.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import { QueueTable } from './components/queue-table.js';
import { WATCH_COLUMNS } from './queue-columns.js';

export interface QueuesWatchProps {
  sample: () => Promise<QueuesSnapshot>;
  intervalMs: number;
  sort: QueueSort;
  filter?: string | undefined;
  onQuit: () => void;
}

const SORTS: readonly QueueSort[] = ['depth', 'name', 'state'];

export function QueuesWatchScreen(props: QueuesWatchProps) {
  const [paused, setPaused] = useState(false);
  const [sort, setSort] = useState<QueueSort>(props.sort);
  const poll = usePoll(props.sample, props.intervalMs, paused);
  const { columns, rows } = useTerminalSize();
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) props.onQuit();
    if (input === 'p') setPaused((p) => !p);
    if (input === 's') setSort((s) => SORTS[(SORTS.indexOf(s) + 1) % SORTS.length]!);
  });
  const snap = poll.data;
  const width = Math.max(40, columns - 1);
  const shown = snap ? selectRows(snap.rows, { sort, filter: props.filter }) : [];
  const total = shown.reduce((n, r) => n + r.total, 0);
  const d = snap?.dispatcher;
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold inverse>
          {' ingest queues '}
        </Text>{' '}
        {snap ? clock(Date.parse(snap.at)) : 'connecting…'} every {fmtAge(props.intervalMs)} · sort{' '}
        {sort}
        {props.filter ? ` · filter "${props.filter}"` : ''}
        {paused ? (
          <Text color="yellow" bold>
            {' PAUSED'}
          </Text>
        ) : null}
        <Text dimColor>{`  q quit · p ${paused ? 'resume' : 'pause'} · s sort`}</Text>
      </Text>
      {poll.error ? (
        <Text color="red" wrap="truncate">
          DOWN: {poll.error}
          {snap ? ' (showing the last sample)' : ''}
        </Text>
      ) : null}
      {d ? (
        <Text wrap="truncate">
          {snap.dispatcherUrl.replace(/^https?:\/\//, '')}{' '}
          <Text bold color={d.state === 'running' ? 'green' : 'yellow'}>
            {d.state}
          </Text>
          {` · ${d.effectiveStrategy}${d.fallback ? ' (fifo fallback)' : ''} · maintainer `}
          <Text color={d.maintainer.alive ? 'green' : 'red'}>
            {d.maintainer.alive ? 'alive' : 'stale'}
          </Text>{' '}
          · {shown.length} queues · {fmtCount(total)} messages
        </Text>
      ) : null}
      {snap?.rates.note ? (
        <Text dimColor wrap="truncate">
          {snap.rates.note}
        </Text>
      ) : null}
      {snap ? (
        <QueueTable
          rows={shown}
          columns={WATCH_COLUMNS}
          width={width}
          limit={Math.max(3, rows - 7)}
        />
      ) : null}
    </Box>
  );
}
