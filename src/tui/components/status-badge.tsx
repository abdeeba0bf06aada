import { Text } from 'ink';

/** UP in green, DOWN in red with the reason. */
export function StatusBadge(props: { ok: boolean; label?: string }) {
  return (
    <Text color={props.ok ? 'green' : 'red'} bold>
      {props.label ?? (props.ok ? 'UP' : 'DOWN')}
    </Text>
  );
}
