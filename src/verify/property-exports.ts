import { describeFormula, isDataInvariant, isDataLiveness, type BoolExpr } from './property-formula.js';
import { renderFormula, type FormulaSyntax } from './property-render.js';
import type { SystemModel } from './system-model.js';

/** What an export can say about the definition's properties: each data property rendered, the function-only ones named. */
export interface RenderedProperties {
  readonly invariants: readonly { readonly name: string; readonly description: string; readonly formula: string; readonly text: string }[];
  readonly liveness: readonly { readonly name: string; readonly description: string; readonly pending: string; readonly text: string }[];
  /** Properties written as TypeScript functions: no formula to export. */
  readonly notExported: readonly string[];
}

export function renderProperties(m: SystemModel, syntax: FormulaSyntax): RenderedProperties {
  const def = m.definition;
  const render = (e: BoolExpr) => renderFormula(m, syntax, e);
  return {
    invariants: def.invariants.filter(isDataInvariant).map((p) => ({ name: p.name, description: p.description, formula: describeFormula(p.formula), text: render(p.formula) })),
    liveness: def.liveness.filter(isDataLiveness).map((p) => ({ name: p.name, description: p.description, pending: describeFormula(p.pendingFormula), text: render(p.pendingFormula) })),
    notExported: [...def.invariants.filter((p) => !isDataInvariant(p)), ...def.liveness.filter((p) => !isDataLiveness(p))].map((p) => p.name),
  };
}

/** The header line every export carries about function-only properties (never dropped silently). */
export const notExportedLine = (r: RenderedProperties): string =>
  r.notExported.length === 0 ? 'every property of the definition is exported' : `not exported (written as TypeScript functions, not as data; only \`ordo verify\` checks them): ${r.notExported.join(', ')}`;

const ident = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * The Promela spelling, over the export's variables: `o[i]` the machine state, `l_<p>[i]`
 * and `sh_<p>` the participants' state codes, `<queue>[i*C]` the queue heads.
 */
export function promelaSyntax(m: SystemModel, names: { local(p: number, i: number): string; shared(p: number): string | undefined; quiet(i: number): string }): FormulaSyntax {
  return {
    true: 'true',
    false: 'false',
    and: ' && ',
    or: ' || ',
    not: (a) => `!${a}`,
    rel: (r) => r,
    // Arithmetic, not `(c -> a : b)`: SPIN's ltl parser reads `->` as implication. Tests are 0 or 1.
    ite: (c, a, b) => `(${c} * ${a} + (1 - ${c}) * ${b})`,
    code: (p, key) => (key === undefined ? names.shared(p) : names.local(p, Number(key))),
    oneOf: (x, codes) => `(${codes.map((c) => `${x} == ${c}`).join(' || ')})`,
    machine: (key) => `o[${key}]`,
    quiet: (key) => names.quiet(Number(key)),
    literalKey: (i) => String(i),
  };
}

/**
 * The properties as SPIN checks them, one `ltl` claim each (pan -N <name>): an invariant
 * `[] inv`, a liveness property "no obligation stays pending forever" `[] (pending -> <> !pending)`.
 * No fairness is written: the model is one process (SPIN's `-f` is per process) of
 * d_steps with bounded faults, and a finished system blocks at `end:`, where SPIN extends
 * it by stuttering. Where only ordo's weak fairness per actor breaks a cycle of steps,
 * SPIN reports a liveness violation ordo does not (the shop and the trip example have none:
 * the tests compare every claim).
 */
export function promelaProperties(r: RenderedProperties): string[] {
  const out: string[] = [];
  const note = (s: string) => `/* ${s.replace(/\*\//g, '* /')} */`;
  for (const p of r.invariants) {
    out.push(note(`invariant ${p.name}: ${p.description}\n   ${p.formula}`));
    out.push(`#define inv_${ident(p.name)} ${p.text}`);
    out.push(`ltl ${ident(p.name)} { [] inv_${ident(p.name)} }`);
  }
  for (const p of r.liveness) {
    out.push(note(`liveness ${p.name}: ${p.description}; pending while ${p.pending}`));
    out.push(`#define pending_${ident(p.name)} ${p.text}`);
    out.push(`ltl ${ident(p.name)} { [] (pending_${ident(p.name)} -> <> !pending_${ident(p.name)}) }`);
  }
  return out;
}

const TLA_REL: Readonly<Record<string, string>> = { '==': '=', '!=': '#' };

/** The TLA+ spelling, over the module's variables: `o[i]`, `l<P>[i]`, `sh<P>`, `Quiet(i)`; keys 1..N, quantifiers native. */
export function tlaSyntax(names: { local(p: number, key: string): string; shared(p: number): string }): FormulaSyntax {
  return {
    true: 'TRUE',
    false: 'FALSE',
    and: ' /\\ ',
    or: ' \\/ ',
    not: (a) => `~${a}`,
    rel: (r) => TLA_REL[r] ?? r,
    ite: (c, a, b) => `(IF ${c} THEN ${a} ELSE ${b})`,
    code: (p, key) => (key === undefined ? names.shared(p) : names.local(p, key)),
    oneOf: (x, codes) => `(${x} \\in {${codes.join(', ')}})`,
    machine: (key) => `o[${key}]`,
    quiet: (key) => `Quiet(${key})`,
    literalKey: (i) => String(i + 1),
    quantify: (op, name, body) => `(${op === 'forall' ? '\\A' : '\\E'} ${name} \\in Keys : ${body})`,
    boundName: (key, depth) => `${key.replace(/[^A-Za-z0-9_]/g, '')}${depth}`,
  };
}

/**
 * The properties as TLC checks them: each invariant a state predicate listed under
 * INVARIANT, each liveness property `[](Pending => <>~Pending)` under PROPERTY (the
 * module's Spec carries `WF_vars` per fair actor).
 */
export function tlaProperties(r: RenderedProperties): { definitions: string; invariants: string[]; properties: string[] } {
  const note = (s: string) => `(* ${s.replace(/\(\*|\*\)/g, '* ')} *)`;
  const lines: string[] = [note(`The definition's properties as data; ${notExportedLine(r)}.`)];
  for (const p of r.invariants) lines.push(note(`${p.description}: ${p.formula}`), `${ident(p.name)} == ${p.text}`);
  for (const p of r.liveness) {
    lines.push(note(`${p.description}; pending while ${p.pending}`), `${ident(p.name)}Pending == ${p.text}`, `${ident(p.name)} == [](${ident(p.name)}Pending => <>~${ident(p.name)}Pending)`);
  }
  return { definitions: lines.join('\n'), invariants: r.invariants.map((p) => ident(p.name)), properties: r.liveness.map((p) => ident(p.name)) };
}
