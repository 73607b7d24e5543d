/**
 * The stuck condition over `ordo_saga_instances i`, shared by the admin API and the
 * `ordo_sagas_stuck` gauge: active, unchanged for `afterSeconds`, and no timer due within
 * that window. A timer overdue by more than the threshold means nothing fires it: stuck too.
 * Parameters: $1 machine, $2 seconds, $3/$4 the timer window in engine ms.
 */
export function stuckSagaFilter(machineId: string, afterSeconds: number, nowMs: number): { where: string; params: unknown[] } {
  const afterMs = afterSeconds * 1000;
  return {
    where: `i.machine_id = $1 AND i.status = 'active' AND i.updated_at < now() - make_interval(secs => $2)
        AND NOT EXISTS (SELECT 1 FROM ordo_saga_timers t WHERE t.saga_id = i.id AND t.due_at BETWEEN $3 AND $4)`,
    params: [machineId, afterSeconds, String(nowMs - afterMs), String(nowMs + afterMs)],
  };
}
