import { Box, Text } from 'ink';
import type { FrontendSection } from '../../admin/pipeline-status.js';
import { fmtCount, fmtMs, fmtRate } from '../format.js';
import { Fields } from './fields.js';
import { ServiceHeading } from './service-heading.js';

export function FrontendPanel(props: { url: string; section: FrontendSection | undefined }) {
  const s = props.section;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <ServiceHeading title="FRONTEND" url={props.url} section={s} />
        {s?.ok ? (
          <Text color={s.ready ? 'green' : 'yellow'}>{s.ready ? ' ready' : ' not ready'}</Text>
        ) : null}
        {s?.ok ? (
          <>
            {'  non-2xx '}
            <Text bold color={s.non2xxPerSec > 0 ? 'yellow' : undefined}>
              {fmtRate(s.non2xxPerSec)}
            </Text>
            <Text dimColor>{` (${fmtCount(s.non2xxTotal)} total)`}</Text>
          </>
        ) : null}
        {s?.ok && s.hint ? <Text color="yellow"> ({s.hint})</Text> : null}
      </Text>
      {s?.ok ? (
        <Fields
          fields={[
            { label: 'requests', value: fmtRate(s.requestsPerSec) },
            { label: 'readings', value: fmtRate(s.readingsPerSec) },
            {
              label: 'confirm p50',
              value: `${fmtMs(s.confirmP50Ms)} p99 ${fmtMs(s.confirmP99Ms)}`,
            },
            { label: 'in-flight', value: fmtCount(s.inFlight) },
          ]}
        />
      ) : null}
    </Box>
  );
}
