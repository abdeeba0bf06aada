import { Box, Text } from 'ink';
import type { StorageSection } from '../../admin/pipeline-status.js';
import { fmtCount, fmtRate } from '../format.js';
import { Fields } from './fields.js';
import { StatusBadge } from './status-badge.js';

export function StoragePanel(props: { section: StorageSection | undefined }) {
  const s = props.section;
  if (s === undefined) return null;
  if (!s.ok)
    return (
      <Text wrap="truncate">
        <Text bold color="cyan">
          STORAGE
        </Text>{' '}
        <StatusBadge ok={false} /> <Text color="red">{s.error}</Text>
      </Text>
    );
  const failed = s.deliveriesFailedLastHour ?? 0;
  const dead = s.deliveriesDeadLastHour ?? 0;
  return (
    <Box>
      <Text bold color="cyan">
        STORAGE
      </Text>
      <Fields
        indent={1}
        fields={[
          { label: 'rows stored', value: fmtRate(s.rowsPerSec) },
          { label: 'readings', value: `~${fmtCount(s.rowsEstimate)}`, note: 'rows' },
          {
            label: 'alerts failed',
            value: fmtCount(s.deliveriesFailedLastHour),
            color: failed > 0 ? 'yellow' : undefined,
          },
          {
            label: 'dead',
            value: fmtCount(s.deliveriesDeadLastHour),
            color: dead > 0 ? 'red' : undefined,
            note: '(1h)',
          },
        ]}
      />
    </Box>
  );
}
