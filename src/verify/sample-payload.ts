import type { z } from 'zod';
import { ModelOptionsError } from './errors.js';

interface Def {
  readonly type: string;
  readonly shape?: Record<string, { def: Def }>;
  readonly entries?: Record<string, string | number>;
  readonly values?: readonly unknown[];
  readonly checks?: readonly { _zod?: { def?: { check?: string; value?: number } } }[];
}

function sampleValue(def: Def): unknown {
  switch (def.type) {
    case 'string':
      return 'x';
    case 'number':
    case 'int':
      return 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return sampleObject(def);
    case 'enum':
      return Object.values(def.entries ?? {})[0];
    case 'literal':
      return def.values?.[0];
    default:
      // optional, default, nullable and the rest: leave it out and let the schema fill it in.
      return undefined;
  }
}

function sampleObject(def: Def): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(def.shape ?? {})) {
    const value = sampleValue(v.def);
    if (value !== undefined) out[k] = value;
  }
  return out;
}

/**
 * One representative payload for an event schema: the finite stand-in the
 * checker sends for "any payload of this type". Strings are `"x"`, numbers 1,
 * optional fields are left out; callers with richer guards pass their own events.
 */
export function samplePayload(name: string, schema: z.ZodType<object>): Record<string, unknown> {
  const empty = schema.safeParse({});
  if (empty.success) return empty.data as Record<string, unknown>;
  const def = (schema as unknown as { def: Def }).def;
  const candidate = def.type === 'object' ? sampleObject(def) : {};
  const parsed = schema.safeParse(candidate);
  if (!parsed.success) throw new ModelOptionsError(`events.${name}`, 'cannot derive a representative payload from its schema; pass `events` explicitly');
  return parsed.data as Record<string, unknown>;
}
