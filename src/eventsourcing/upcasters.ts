import { UpcastError } from './errors.js';

/** Turns the data of `type` at schema version `from` into version `from + 1`. */
export interface Upcaster {
  readonly type: string;
  readonly from: number;
  upcast(data: unknown, metadata: Readonly<Record<string, unknown>>): unknown;
}

/** Where a message's schema version is kept; absent means version 1. */
export const SCHEMA_VERSION = 'schemaVersion';

interface Upcastable {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface Upcasters {
  /** The version new events of `type` are written at (1 when it has no upcasters). */
  currentVersion(type: string): number;
  /** The message with its data brought to the current version (the same object when already current). */
  upcast<T extends Upcastable>(message: T): T;
}

export function schemaVersionOf(metadata: Readonly<Record<string, unknown>> | undefined): number {
  const v = metadata?.[SCHEMA_VERSION];
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1;
}

/**
 * A registry of upcaster chains, one per event type: v1 → v2 → … → current. Each chain
 * must start at 1 and have no gaps, checked here so a missing step fails at start-up,
 * not when an old event is first read.
 */
export function createUpcasters(list: readonly Upcaster[] = []): Upcasters {
  const byType = new Map<string, Map<number, Upcaster>>();
  for (const u of list) {
    if (!Number.isInteger(u.from) || u.from < 1) throw new UpcastError(u.type, u.from, 'an upcaster must start from a positive integer version');
    const chain = byType.get(u.type) ?? new Map<number, Upcaster>();
    if (chain.has(u.from)) throw new UpcastError(u.type, u.from, 'two upcasters from the same version');
    chain.set(u.from, u);
    byType.set(u.type, chain);
  }
  for (const [type, chain] of byType) {
    for (let v = 1; v <= chain.size; v++) if (!chain.has(v)) throw new UpcastError(type, v, `the chain has a gap: no upcaster from v${v}`);
  }
  const currentVersion = (type: string): number => (byType.get(type)?.size ?? 0) + 1;
  return {
    currentVersion,
    upcast<T extends Upcastable>(message: T): T {
      const chain = byType.get(message.type);
      const current = currentVersion(message.type);
      let version = schemaVersionOf(message.metadata);
      if (version === current) return message;
      if (version > current) throw new UpcastError(message.type, version, `stored at a newer version than this code knows (v${current}); deploy the newer code`);
      let data = message.data;
      while (version < current) {
        const step = chain?.get(version);
        if (!step) throw new UpcastError(message.type, version, 'no upcaster');
        try {
          data = step.upcast(data, message.metadata);
        } catch (err) {
          throw new UpcastError(message.type, version, `upcaster threw: ${(err as Error).message}`);
        }
        version += 1;
      }
      return { ...message, data, metadata: { ...message.metadata, [SCHEMA_VERSION]: version } };
    },
  };
}

/** No upcasters: every type is at version 1. */
export const noUpcasters: Upcasters = createUpcasters();
