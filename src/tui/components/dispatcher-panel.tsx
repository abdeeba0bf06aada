import { Box, Text } from 'ink';
import type { DispatcherSection } from '../../admin/pipeline-status.js';
import { fmtAge, fmtCount } from '../format.js';
import { Fields } from './fields.js';
import { ServiceHeading } from './service-heading.js';

export function DispatcherPanel(props: { url: string; section: DispatcherSection | undefined }) {
  const s = props.section;
  const d = s?.ok ? s.dispatcher : undefined;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <ServiceHeading title="DISPATCHER" url={props.url} section={s} />
        {d ? (
          <>
            {' '}
            <Text color={d.state === 'running' ? 'green' : 'yellow'} bold>
              {d.state}
            </Text>
            {' · '}
            <Text bold>{d.effectiveStrategy}</Text>
            {d.fallback ? <Text color="yellow"> (fifo fallback: maintainer stale)</Text> : null}
            {' · maintainer '}
            <Text color={d.maintainer.alive ? 'green' : 'red'} bold>
              {d.maintainer.alive ? 'alive' : 'stale'}
            </Text>
            <Text dimColor> ({fmtAge(d.maintainer.ageMs)})</Text>
          </>
        ) : null}
      </Text>
      {s?.ok ? (
        <Fields
          fields={[
            { label: 'queues', value: String(s.queues.length) },
            { label: 'busy', value: String(s.byState.busy), color: 'green' },
            { label: 'idle', value: String(s.byState.idle) },
            { label: 'empty', value: String(s.byState.empty) },
            ...(s.byState.paused > 0
              ? [{ label: 'paused', value: String(s.byState.paused), color: 'yellow' }]
              : []),
            ...(s.byState.deleted > 0
              ? [{ label: 'deleted', value: String(s.byState.deleted) }]
              : []),
            { label: 'messages', value: fmtCount(s.messages) },
            { label: 'consumers', value: String(s.activeConsumers) },
            ...(d?.waitingConsumers !== undefined
              ? [{ label: 'waiting', value: String(d.waitingConsumers) }]
              : []),
          ]}
        />
      ) : null}
    </Box>
  );
}
