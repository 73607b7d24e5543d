import { GENERIC_PLANS, type Db, type Queryable } from '../store/index.js';

/*
 * For tests of the plan PostgreSQL picks for a statement: every node of it, for the values
 * given (a custom plan) or as a prepared statement's generic plan (what a marked statement
 * runs with in a script, script-prepared.ts).
 */

export interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Index Cond'?: string;
  readonly Plans?: readonly PlanNode[];
}

type Explained = { 'QUERY PLAN': [{ Plan: PlanNode }] };

const nodesOf = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodesOf)];

function planOf(r: { rows: Explained[] }): PlanNode[] {
  const plan = r.rows[0]?.['QUERY PLAN'][0]?.Plan;
  if (!plan) throw new Error('EXPLAIN returned no plan');
  return nodesOf(plan);
}

/** The nodes of the plan for `sql` with `params` (planned for those values). */
export async function customPlan(q: Queryable, sql: string, params: readonly unknown[] = []): Promise<PlanNode[]> {
  return planOf(await q.query<Explained>(`EXPLAIN (FORMAT JSON) ${sql}`, params));
}

/** The nodes of the generic plan of `sql` prepared with parameter `types`, run with `literals` (SQL text, one per parameter). */
export async function genericPlan(db: Db, sql: string, types: readonly string[], literals: readonly string[]): Promise<PlanNode[]> {
  return db.transaction(async (tx) => {
    await tx.query(GENERIC_PLANS); // as a script runs a marked statement
    await tx.query(`PREPARE ordo_test_generic_plan(${types.join(', ')}) AS ${sql}`);
    const r = await tx.query<Explained>(`EXPLAIN (FORMAT JSON) EXECUTE ordo_test_generic_plan(${literals.join(', ')})`);
    await tx.query('DEALLOCATE ordo_test_generic_plan');
    return planOf(r);
  });
}
