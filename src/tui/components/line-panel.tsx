import { Text } from 'ink';

/** A titled one-line panel (demo traffic and other summaries). */
export function LinePanel(props: { title: string; text: string; color?: string }) {
  return (
    <Text wrap="truncate">
      <Text bold color="cyan">
        {props.title}
      </Text>{' '}
      <Text color={props.color}>{props.text}</Text>
    </Text>
  );
}
