import { describe, expect, it } from 'vitest';
import { childTraceparent, formatTraceparent, parseTraceparent } from './trace-context.js';

describe('W3C trace context', () => {
  it('parses and formats a valid traceparent', () => {
    const h = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(parseTraceparent(h)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true });
    expect(formatTraceparent(parseTraceparent(h)!)).toBe(h);
  });
  it('rejects malformed or all-zero ids', () => {
    for (const bad of ['', 'garbage', '00-0000000000000000000000000000000-00f067aa0ba902b7-01', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01']) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });
  it('keeps the trace id and makes a new span for a child', () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const child = parseTraceparent(childTraceparent(parent));
    expect(child?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child?.spanId).not.toBe('00f067aa0ba902b7');
    expect(parseTraceparent(childTraceparent())).toBeDefined();
  });
});
