import { Text } from 'ink';
import { StatusBadge } from './status-badge.js';

/**
 * The start of a service panel's first line (inside its <Text>): the title, the
 * address without the scheme, UP/DOWN (… before the first answer) and the error.
 */
export function ServiceHeading(props: {
  title: string;
  url: string;
  section: { ok: true } | { ok: false; error: string } | undefined;
}) {
  const s = props.section;
  return (
    <>
      <Text bold color="cyan">
        {props.title}
      </Text>{' '}
      {props.url.replace(/^https?:\/\//, '')}{' '}
      {s === undefined ? <Text dimColor>…</Text> : <StatusBadge ok={s.ok} />}
      {s && !s.ok ? <Text color="red"> {s.error}</Text> : null}
    </>
  );
}
