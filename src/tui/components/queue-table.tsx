import { Box, Text } from 'ink';
import type { QueueRow } from '../../admin/pipeline-status.js';
import { formatHeader, formatRow, layoutColumns, type Column } from '../format.js';
import { STATE_COLORS } from '../queue-columns.js';

export interface QueueTableProps<T extends QueueRow> {
  rows: readonly T[];
  columns: readonly Column<T>[];
  /** Characters available for the table. */
  width: number;
  /** Rows shown at most; a last line says how many more there are. */
  limit: number;
}

export function QueueTable<T extends QueueRow>(props: QueueTableProps<T>) {
  const widths = layoutColumns(props.columns, props.width);
  const stateIndex = props.columns.findIndex((c) => c.header === 'STATE');
  const shown = props.rows.slice(0, Math.max(0, props.limit));
  const more = props.rows.length - shown.length;
  return (
    <Box flexDirection="column">
      <Text bold dimColor wrap="truncate">
        {formatHeader(props.columns, widths)}
      </Text>
      {shown.map((row) => {
        const cells = formatRow(props.columns, widths, row);
        return (
          <Text key={row.id} wrap="truncate">
            {cells.map((cell, i) => (
              <Text key={i} color={i === stateIndex ? STATE_COLORS[row.state] : undefined}>
                {i > 0 ? ' ' : ''}
                {cell}
              </Text>
            ))}
          </Text>
        );
      })}
      {props.rows.length === 0 ? <Text dimColor>(no queues)</Text> : null}
      {more > 0 ? <Text dimColor>… {more} more (deepest first)</Text> : null}
    </Box>
  );
}
