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

  it('by default leaves colour out when NO_COLOR is set', () => {
    vi.stubEnv('NO_COLOR', '1');
    try {
      expect(renderTable(['a'], [['x']])).not.toContain(ESC);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
