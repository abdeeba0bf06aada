/**
 * The pipeline dashboard: frontend, dispatcher, storage, queues (deepest
 * first), plus the processes and demo traffic when run by `ingest up`.
 * Keys: q quits, p pauses refresh.
 */
import { Box, Text, useInput } from 'ink';
import { useState } from 'react';
import type { PipelineSnapshot } from '../admin/pipeline-status.js';
import { clock, fmtAge } from './format.js';
import { usePoll } from './hooks/usePoll.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import { DispatcherPanel } from './components/dispatcher-panel.js';
import { FrontendPanel } from './components/frontend-panel.js';
import { LinePanel } from './components/line-panel.js';
import { ProcessesPanel, type ProcessView } from './components/processes-panel.js';
import { QueueTable } from './components/queue-table.js';
import { StoragePanel } from './components/storage-panel.js';
import { QUEUE_COLUMNS } from './queue-columns.js';

export interface DashboardExtras {
  processes?: ProcessView[];
  /** One line about generated traffic. */
  demo?: string;
  /** A line shown in the header (e.g. the log file). */
  note?: string;
}

export interface DashboardProps {
  sample: () => Promise<PipelineSnapshot>;
  intervalMs: number;
  onQuit: () => void;
  title?: string;
  /** Read at every render: the state of `ingest up`'s processes and traffic. */
  extras?: () => DashboardExtras;
}

export function DashboardScreen(props: DashboardProps) {
  const [paused, setPaused] = useState(false);
  const poll = usePoll(props.sample, props.intervalMs, paused);
  const { columns, rows } = useTerminalSize();
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) props.onQuit();
    if (input === 'p') setPaused((p) => !p);
  });
  const snap = poll.data;
  const extras = props.extras?.() ?? {};
  const width = Math.max(40, columns - 1);
  // Lines the fixed panels take; the queue table gets the rest.
  const used =
    1 +
    2 +
    2 +
    (snap?.storage ? 1 : 0) +
    (extras.processes ? 1 + Math.floor((extras.processes.length * 14) / width) : 0) +
    (extras.demo ? 1 : 0) +
    (extras.note ? 1 : 0) +
    3;
  const limit = Math.max(3, rows - used - 2);
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold inverse>
          {' '}
          {props.title ?? 'ingest dashboard'}{' '}
        </Text>{' '}
        {snap ? clock(snap.at) : 'connecting…'} every {fmtAge(props.intervalMs)}
        {paused ? (
          <Text color="yellow" bold>
            {' '}
            PAUSED
          </Text>
        ) : null}
        <Text dimColor>{`  q quit · p ${paused ? 'resume' : 'pause'}`}</Text>
      </Text>
      {extras.note ? (
        <Text dimColor wrap="truncate">
          {extras.note}
        </Text>
      ) : null}
      {poll.error ? <Text color="red">poll failed: {poll.error}</Text> : null}
      <FrontendPanel url={snap?.frontendUrl ?? ''} section={snap?.frontend} />
      <DispatcherPanel url={snap?.dispatcherUrl ?? ''} section={snap?.dispatcher} />
      <StoragePanel section={snap?.storage} />
      {extras.processes ? <ProcessesPanel processes={extras.processes} /> : null}
      {extras.demo ? <LinePanel title="DEMO" text={extras.demo} /> : null}
      <Box marginTop={1}>
        {snap?.dispatcher.ok ? (
          <QueueTable
            rows={snap.dispatcher.queues}
            columns={QUEUE_COLUMNS}
            width={width}
            limit={limit}
          />
        ) : (
          <Text dimColor>queues: {snap ? 'dispatcher DOWN' : 'waiting for the first sample…'}</Text>
        )}
      </Box>
    </Box>
  );
}
