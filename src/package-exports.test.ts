import { describe, expect, it } from 'vitest';

// The package's public entry points resolve by name (self-reference through the
// `exports` map) and keep test helpers out of the root.
describe('package exports', () => {
  it('root exposes the machine core, runtime and store, not the test kit', async () => {
    const root = await import('ordo');
    expect(typeof root.setup).toBe('function');
    expect(typeof root.transition).toBe('function');
    expect(typeof root.createSagaEngine).toBe('function');
    expect(typeof root.appendToStream).toBe('function');
    expect('VirtualClock' in root).toBe(false);
    expect('DeciderSpecification' in root).toBe(false);
  });
  it('adapters and tools live in subpaths', async () => {
    expect(typeof (await import('ordo/postgres')).openPostgres).toBe('function');
    expect(typeof (await import('ordo/nats')).createNatsTransport).toBe('function');
    expect(typeof (await import('ordo/kafka')).createKafkaTransport).toBe('function');
    expect(typeof (await import('ordo/testing')).VirtualClock).toBe('function');
    expect(typeof (await import('ordo/verify')).checkMachine).toBe('function');
    expect(typeof (await import('ordo/machine')).toMermaid).toBe('function');
  });
});
