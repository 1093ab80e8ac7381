import { describe, expect, it } from 'vitest';
import { batchedLines, jsonLogLine } from './stdio.js';

function sink() {
  const writes: string[] = [];
  return { writes, write: (t: string) => writes.push(t) > 0 };
}

describe('batchedLines', () => {
  it('writes the lines of one event-loop turn in one write, in order', async () => {
    const s = sink();
    const lines = batchedLines(s);
    lines.write('a\n');
    lines.write('b\n');
    lines.write('c\n');
    expect(s.writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(s.writes).toEqual(['a\nb\nc\n']);
    lines.write('d\n');
    await new Promise((r) => setImmediate(r));
    expect(s.writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('writes at once when maxBytes wait, and flush() writes what waits now (nothing twice)', async () => {
    const s = sink();
    const lines = batchedLines(s, 10);
    lines.write('12345\n');
    expect(s.writes).toEqual([]);
    lines.write('67890\n');
    expect(s.writes).toEqual(['12345\n67890\n']);
    lines.write('x\n');
    lines.flush();
    expect(s.writes).toEqual(['12345\n67890\n', 'x\n']);
    lines.flush();
    await new Promise((r) => setImmediate(r));
    expect(s.writes).toEqual(['12345\n67890\n', 'x\n']);
  });
});

describe('jsonLogLine', () => {
  it('puts the time first, then the entry, one JSON object per line', () => {
    const t = new Date(0);
    expect(jsonLogLine(t, { level: 'info', msg: 'x', n: 1 })).toBe('{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"x","n":1}\n');
    expect(jsonLogLine(t, {})).toBe('{"time":"1970-01-01T00:00:00.000Z"}\n');
    expect(JSON.parse(jsonLogLine(t, { msg: 'a "quoted" \\ text' }))).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      msg: 'a "quoted" \\ text',
    });
  });
});
