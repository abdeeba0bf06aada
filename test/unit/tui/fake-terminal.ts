/** A fake terminal for ink: stdout records frames (debug mode writes whole frames), stdin takes keys. */
import { EventEmitter } from 'node:events';

export class FakeStdout extends EventEmitter {
  readonly isTTY = true;
  frames: string[] = [];
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write(chunk: string): boolean {
    this.frames.push(String(chunk));
    return true;
  }
  /** The last frame, without colours. */
  last(): string {
    // eslint-disable-next-line no-control-regex
    return (this.frames.at(-1) ?? '').replace(/\u001b\[[0-9;]*m/g, '');
  }
}

export class FakeStdin extends EventEmitter {
  readonly isTTY = true;
  private queue: string[] = [];
  setRawMode(): this {
    return this;
  }
  setEncoding(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  read(): string | null {
    return this.queue.shift() ?? null;
  }
  press(key: string): void {
    this.queue.push(key);
    this.emit('readable');
    this.emit('data', key);
  }
}

/** ink's render() options for rendering into the fake terminal (whole frames, no Ctrl-C exit, console left alone). */
export function fakeTerminalOptions(
  stdout: FakeStdout,
  stdin: FakeStdin = new FakeStdin(),
): {
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  debug: true;
  exitOnCtrlC: false;
  patchConsole: false;
} {
  return {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  };
}

export async function waitFor(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
