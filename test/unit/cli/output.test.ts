import { describe, expect, it, vi } from 'vitest';
import { renderTable, shouldColour } from '../../../src/cli/output.js';

const ESC = '\u001b[';

describe('table colour', () => {
  it('colours only a terminal without NO_COLOR', () => {
    expect(shouldColour({ isTTY: true }, {})).toBe(true);
    expect(shouldColour({ isTTY: false }, {})).toBe(false);
    expect(shouldColour({}, {})).toBe(false);
    expect(shouldColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColour({ isTTY: false }, { NO_COLOR: '1' })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count as set.
    expect(shouldColour({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
  });

  it('renders plain text without colour', () => {
    // (With colour, cli-table3's colours library still decides for itself whether this
    // process may print ANSI codes, so that half depends on where the test runs.)
    const plain = renderTable(['a'], [['x']], false);
    expect(plain).not.toContain(ESC);
    expect(plain).toContain('x');
  });

  it('by default follows the terminal and NO_COLOR', () => {
    // vitest's workers have no TTY: pretend stdout is a terminal, so NO_COLOR alone decides.
    const tty = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    try {
      expect(shouldColour()).toBe(true);
      vi.stubEnv('NO_COLOR', '1');
      expect(shouldColour()).toBe(false);
      expect(renderTable(['a'], [['x']])).not.toContain(ESC);
    } finally {
      vi.unstubAllEnvs();
      if (tty) Object.defineProperty(process.stdout, 'isTTY', tty);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
  });
});
