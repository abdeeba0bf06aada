import { describe, expect, it } from 'vitest';
import { matchDeadLetters, type Nameable } from '../../../src/deadletters/dead-letter-refs.js';

const letters: Nameable[] = [
  { kind: 'readings', index: 1, messageId: 'a' },
  { kind: 'readings', index: 2, messageId: 'b' },
  { kind: 'readings', index: 3, messageId: null },
  { kind: 'alerts', index: 1, messageId: 'k' },
];
const ids = (xs: Nameable[]) => xs.map((d) => `${d.kind}:${d.index}`);

describe('dead letter names', () => {
  it('takes a message id, or with one kind "#N" or a bare N', () => {
    expect(ids(matchDeadLetters('all', ['b'], letters))).toEqual(['readings:2']);
    expect(ids(matchDeadLetters('readings', ['#3'], letters))).toEqual(['readings:3']);
    expect(ids(matchDeadLetters('readings', ['3'], letters))).toEqual(['readings:3']);
    expect(ids(matchDeadLetters('alerts', ['#1'], letters.slice(3)))).toEqual(['alerts:1']);
  });

  it('returns each letter once, in queue order', () => {
    expect(ids(matchDeadLetters('readings', ['#3', 'a', '#1', 'b'], letters))).toEqual([
      'readings:1',
      'readings:2',
      'readings:3',
    ]);
  });

  it('a message id that looks like a position is still an id', () => {
    const odd: Nameable[] = [...letters, { kind: 'readings', index: 4, messageId: '#1' }];
    expect(ids(matchDeadLetters('readings', ['#1'], odd))).toEqual(['readings:4']);
  });

  it('fails on the first unknown name, with the wording show uses', () => {
    expect(() => matchDeadLetters('readings', ['a', 'nope'], letters)).toThrow(
      'no dead letter "nope"',
    );
    expect(() => matchDeadLetters('readings', ['#9'], letters)).toThrow('no dead letter "#9"');
    expect(() => matchDeadLetters('readings', ['#0'], letters)).toThrow('no dead letter "#0"');
  });

  it('a position without one kind is ambiguous', () => {
    expect(() => matchDeadLetters('all', ['#2'], letters)).toThrow(
      '"#2" is a position: say which queue with --kind readings or --kind alerts',
    );
  });
});
