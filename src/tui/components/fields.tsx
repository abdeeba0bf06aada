import { Text } from 'ink';

export interface Field {
  label: string;
  value: string;
  color?: string | undefined;
  /** Dim text after the value. */
  note?: string | undefined;
}

/** "  label value  label value ..." on one line, values bold. */
export function Fields(props: { fields: readonly Field[]; indent?: number }) {
  return (
    <Text wrap="truncate">
      {' '.repeat(props.indent ?? 2)}
      {props.fields.map((f, i) => (
        <Text key={f.label}>
          {i > 0 ? '  ' : ''}
          {f.label ? `${f.label} ` : ''}
          <Text bold color={f.color}>
            {f.value}
          </Text>
          {f.note ? <Text dimColor> {f.note}</Text> : null}
        </Text>
      ))}
    </Text>
  );
}
