import type { z } from 'zod';

/** The one error shape every 4xx/5xx of the gateway uses. */
export interface HttpErrorBody {
  error: { code: string; message: string; fields?: { path: string; message: string }[] };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: { path: string; message: string }[],
  ) {
    super(message);
  }
  body(): HttpErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.fields ? { fields: this.fields } : {}) } };
  }
}

export function validationError(error: z.ZodError, where: string): HttpError {
  const fields = error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  return new HttpError(400, 'VALIDATION', `invalid ${where}: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields);
}

export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error, where);
  return r.data;
}
