import type { AuditEntry, AuditTrail, TokenRevocations } from './security-api.js';

/** Revocations held in memory: for a gateway built in a test, without a database. */
export function memoryTokenRevocations(): TokenRevocations {
  const revoked = new Map<string, string>();
  return {
    isRevoked: (id) => Promise.resolve(revoked.has(id)),
    revoke(id) {
      const already = revoked.get(id);
      if (!already) revoked.set(id, new Date().toISOString());
      return Promise.resolve({ tokenId: id, revokedAt: revoked.get(id) ?? '', alreadyRevoked: already !== undefined });
    },
  };
}

/** An audit trail held in memory: for a gateway built in a test, without a database. */
export function memoryAuditTrail(): AuditTrail & { readonly entries: AuditEntry[] } {
  const entries: AuditEntry[] = [];
  return {
    entries,
    begin(e) {
      const id = String(entries.length + 1);
      entries.push({ ...e, id, at: new Date().toISOString(), outcome: 'pending' });
      return Promise.resolve(id);
    },
    finish(id, r) {
      const i = Number(id) - 1;
      const e = entries[i];
      if (e) entries[i] = { ...e, outcome: r.outcome, status: r.status, ...(r.after !== undefined ? { after: r.after } : {}), finishedAt: new Date().toISOString() };
      return Promise.resolve();
    },
    list(q) {
      const out = [...entries]
        .reverse()
        .filter((e) => (q.before === undefined || Number(e.id) < Number(q.before)) && (q.action === undefined || e.action === q.action) && (q.actor === undefined || e.actor === q.actor));
      return Promise.resolve(out.slice(0, q.limit));
    },
  };
}
