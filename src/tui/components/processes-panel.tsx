import { Text } from 'ink';

/** A supervised child process as `ingest up` sees it. */
export interface ProcessView {
  name: string;
  state: 'starting' | 'up' | 'restarting' | 'stopping' | 'stopped';
  pid: number | undefined;
  restarts: number;
}

const COLORS: Record<ProcessView['state'], string> = {
  starting: 'yellow',
  up: 'green',
  restarting: 'red',
  stopping: 'yellow',
  stopped: 'gray',
};

export function ProcessesPanel(props: { processes: readonly ProcessView[] }) {
  const up = props.processes.filter((p) => p.state === 'up').length;
  return (
    <Text wrap="wrap">
      <Text bold color="cyan">
        PROCESSES
      </Text>{' '}
      {up}/{props.processes.length} up:
      {props.processes.map((p) => (
        <Text key={p.name}>
          {' '}
          {p.name} <Text color={COLORS[p.state]}>{p.state === 'up' ? '●' : p.state}</Text>
          {p.restarts > 0 ? <Text color="yellow">↻{p.restarts}</Text> : null}
        </Text>
      ))}
    </Text>
  );
}
