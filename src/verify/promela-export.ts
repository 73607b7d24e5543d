import { COMMANDS, REPLIES, reply } from './order-local-table.js';
import { FAULTS, INV, PAY, SHIP, OrderSystem, type OrderSystemOptions } from './order-system.js';

/**
 * The order system as a Promela model for SPIN, generated from the same local
 * table (the order machine's own transitions) and the same service handlers as
 * the checker. One process runs `do :: d_step { guard -> action } ... od` with
 * every variable global and queues as byte arrays, so each SPIN state is exactly
 * one packed state of ours: `pan -DNOREDUCE` stores as many states as `ordo verify`
 * reports without symmetry reduction.
 */
export function toPromela(input: OrderSystemOptions | OrderSystem): string {
  const m = input instanceof OrderSystem ? input : new OrderSystem(input);
  const { orders: N, capacity: C, quantity: Q, stock } = m.options;
  const tab = m.table;
  const I = tab.inputs.length;
  const out: string[] = [];
  const w = (line: string) => out.push(line);
  const budget = (f: string) => `b_${f}`;
  const has = (f: (typeof FAULTS)[number]) => m.budgetOffset[f] !== undefined;

  w(`/* ordo: order system, ${N} order(s), stock ${stock}, quantity ${Q}, capacity ${C}`);
  w(`   faults: ${FAULTS.filter(has).map((f) => `${f}=${m.options.faults[f]}`).join(', ') || 'none'}${m.options.nonIdempotentPayment ? ', non-idempotent payment (broken variant)' : ''}`);
  w(`   local states of one order (from the machine's transition function):`);
  tab.names.forEach((n, l) => w(`     ${l}: ${n}`));
  w(`   reply codes: ${REPLIES.map((r, k) => `${k + 1}=${r}`).join(' ')}`);
  w(`   commands: inventory ${COMMANDS.inventory.map((c, k) => `${k + 1}=${c}`).join(' ')}; payment ${COMMANDS.payment.map((c, k) => `${k + 1}=${c}`).join(' ')}; shipping ${COMMANDS.shipping.map((c, k) => `${k + 1}=${c}`).join(' ')}`);
  w(`   inv: ${Object.entries(INV).map(([k, v]) => `${v}=${k}`).join(' ')}; pay: ${Object.entries(PAY).map(([k, v]) => `${v}=${k}`).join(' ')}; ship: ${Object.entries(SHIP).map(([k, v]) => `${v}=${k}`).join(' ')} */`);
  w('');
  w(`byte avail = ${stock};`);
  for (const f of FAULTS) if (has(f)) w(`byte ${budget(f)} = ${m.options.faults[f]};`);
  for (const v of ['o', 'inv', 'pay', 'cap', 'ship']) w(`byte ${v}[${N}];`);
  for (const q of ['qi', 'qp', 'qs', 'qr']) w(`byte ${q}[${N * C}];`);
  w('hidden byte m;');
  w('');
  // Queues are packed to the front: push fills the first empty slot, pop shifts left.
  const push = (q: string, b: number, code: string): string => {
    let s = 'assert(false)';
    for (let k = C - 1; k >= 0; k--) s = `if :: ${q}[${b + k}] == 0 -> ${q}[${b + k}] = ${code} :: else -> ${s} fi`;
    return s;
  };
  const pop = (q: string, b: number): string => [...Array.from({ length: C - 1 }, (_, k) => `${q}[${b + k}] = ${q}[${b + k + 1}]`), `${q}[${b + C - 1}] = 0`].join('; ');
  const capUp = (i: number) => `if :: cap[${i}] < 3 -> cap[${i}]++ :: else -> skip fi`;
  const queues = ['qi', 'qp', 'qs', 'qr'];
  const applyEntry = (i: number, e: number): string => {
    const parts = [`o[${i}] = ${tab.next[e] ?? 0}`];
    for (const c of tab.sends[e] ?? []) parts.push(push(queues[c.service] ?? 'qi', i * C, String(c.code)));
    return parts.join('; ');
  };

  w('active proctype system() {');
  w('end:');
  w('  do');
  for (let i = 0; i < N; i++) {
    const b = i * C;
    const quiet = `(qi[${b}] == 0 && qp[${b}] == 0 && qs[${b}] == 0 && qr[${b}] == 0)`;
    w(`  /* ---- order ${i + 1} ---- */`);
    for (let k = 0; k < I; k++) {
      const inp = tab.inputs[k];
      if (!inp || inp.kind === 'reply') continue;
      const ls: number[] = [];
      for (let l = 0; l < tab.names.length; l++) if ((tab.next[l * I + k] ?? -1) >= 0 && tab.changed[l * I + k]) ls.push(l);
      if (ls.length === 0) continue;
      const at = `(${ls.map((l) => `o[${i}] == ${l}`).join(' || ')})`;
      const branches = ls.map((l) => `:: o[${i}] == ${l} -> ${applyEntry(i, l * I + k)}`).join(' ');
      if (inp.kind === 'timer') {
        const guard = has('timeout') ? `${at} && (${quiet} || ${budget('timeout')} > 0)` : `${at} && ${quiet}`;
        const spend = has('timeout') ? `if :: !${quiet} -> ${budget('timeout')}-- :: else -> skip fi; ` : '';
        w(`  :: d_step { ${guard} -> ${spend}if ${branches} fi } /* timer ${inp.name} */`);
      } else if (inp.name === 'CancelRequested') {
        if (!has('cancel')) continue;
        w(`  :: d_step { ${at} && ${budget('cancel')} > 0 -> ${budget('cancel')}--; if ${branches} fi } /* customer ${inp.name} */`);
      } else {
        w(`  :: d_step { ${at} -> if ${branches} fi } /* ${inp.name} */`);
      }
    }
    // Reply delivery: entries that change nothing (ignored, or rejected = dead-lettered) only consume the message.
    const deliver: string[] = [];
    for (let l = 0; l < tab.names.length; l++) {
      for (let r = 1; r <= REPLIES.length; r++) {
        const e = l * I + (r - 1);
        const nx = tab.next[e] ?? -1;
        if (nx < 0 || (nx === l && (tab.sends[e]?.length ?? 0) === 0)) continue;
        deliver.push(`:: o[${i}] == ${l} && qr[${b}] == ${r} -> ${pop('qr', b)}; ${applyEntry(i, e)}`);
      }
    }
    w(`  :: d_step { qr[${b}] != 0 -> if ${deliver.join(' ')} :: else -> ${pop('qr', b)} fi } /* orders handle a reply */`);

    const R = (name: (typeof REPLIES)[number]) => push('qr', b, String(reply(name)));
    const inventory =
      `if :: m == 1 -> if :: inv[${i}] == ${INV.none} -> if :: avail >= ${Q} -> avail = avail - ${Q}; inv[${i}] = ${INV.reserved}; ${R('InventoryReserved')} :: else -> inv[${i}] = ${INV.refused}; ${R('InventoryInsufficient')} fi ` +
      `:: inv[${i}] == ${INV.reserved} || inv[${i}] == ${INV.shipped} -> ${R('InventoryReserved')} :: else -> ${R('InventoryInsufficient')} fi ` +
      `:: else -> if :: inv[${i}] == ${INV.reserved} -> avail = avail + ${Q}; inv[${i}] = ${INV.released}; ${R('ReservationReleased')} :: inv[${i}] == ${INV.none} -> inv[${i}] = ${INV.released}; ${R('ReservationReleased')} ` +
      `:: inv[${i}] == ${INV.shipped} -> ${R('ReleaseFailed')} :: else -> ${R('ReservationReleased')} fi fi`;
    const payment =
      `if :: m == 1 -> if :: pay[${i}] == ${PAY.none} -> pay[${i}] = ${PAY.captured}; ${capUp(i)}; ${R('PaymentApproved')} ` +
      `:: pay[${i}] == ${PAY.captured} -> ${m.options.nonIdempotentPayment ? `${capUp(i)}; ` : ''}${R('PaymentApproved')} :: else -> ${R('PaymentRefused')} fi ` +
      `:: else -> if :: pay[${i}] == ${PAY.captured} || pay[${i}] == ${PAY.none} -> pay[${i}] = ${PAY.refunded} :: else -> skip fi; ${R('PaymentRefunded')} fi`;
    const shipping =
      `if :: ship[${i}] == ${SHIP.none} -> if :: inv[${i}] == ${INV.reserved} -> inv[${i}] = ${INV.shipped}; ship[${i}] = ${SHIP.shipped}; ${R('PackageShipped')} :: else -> ship[${i}] = ${SHIP.failed}; ${R('ShipmentFailed')} fi ` +
      `:: ship[${i}] == ${SHIP.shipped} -> ${R('PackageShipped')} :: else -> ${R('ShipmentFailed')} fi`;
    for (const [q, logic, who] of [['qi', inventory, 'inventory'], ['qp', payment, 'payment'], ['qs', shipping, 'shipping']] as const) {
      w(`  :: d_step { ${q}[${b}] != 0 -> m = ${q}[${b}]; ${pop(q, b)}; ${logic} } /* ${who} */`);
      if (has('crash')) w(`  :: d_step { ${q}[${b}] != 0 && ${budget('crash')} > 0 -> ${budget('crash')}--; m = ${q}[${b}]; ${logic} } /* ${who} handles, crashes before ack */`);
    }
    if (has('decline')) w(`  :: d_step { qp[${b}] == 1 && pay[${i}] == ${PAY.none} && ${budget('decline')} > 0 -> ${budget('decline')}--; ${pop('qp', b)}; pay[${i}] = ${PAY.declined}; ${R('PaymentRefused')} } /* payment declines */`);
    if (has('provider')) w(`  :: d_step { qp[${b}] == 1 && pay[${i}] == ${PAY.none} && ${budget('provider')} > 0 -> ${budget('provider')}--; ${pop('qp', b)}; pay[${i}] = ${PAY.captured}; ${capUp(i)} } /* provider captures, never answers */`);
    if (has('shipfail')) w(`  :: d_step { qs[${b}] != 0 && ship[${i}] == ${SHIP.none} && ${budget('shipfail')} > 0 -> ${budget('shipfail')}--; ${pop('qs', b)}; ship[${i}] = ${SHIP.failed}; ${R('ShipmentFailed')} } /* shipment fails */`);
    for (const q of queues) {
      if (has('dup')) {
        const shift = [...Array.from({ length: C - 2 }, (_, j) => C - 1 - j).map((k) => `${q}[${b + k}] = ${q}[${b + k - 1}]`), `${q}[${b + 1}] = ${q}[${b}]`].join('; ');
        w(`  :: d_step { ${q}[${b}] != 0 && ${q}[${b + C - 1}] == 0 && ${budget('dup')} > 0 -> ${budget('dup')}--; ${shift} } /* duplicate */`);
      }
      if (has('reorder')) w(`  :: d_step { ${q}[${b + 1}] != 0 && ${budget('reorder')} > 0 -> ${budget('reorder')}--; m = ${q}[${b}]; ${q}[${b}] = ${q}[${b + 1}]; ${q}[${b + 1}] = m } /* reorder */`);
      if (has('loss')) w(`  :: d_step { ${q}[${b}] != 0 && ${budget('loss')} > 0 -> ${budget('loss')}--; m = ${q}[${b}]; ${pop(q, b)}; ${push(q, b, 'm')} } /* lost, resent */`);
    }
  }
  w('  od');
  w('}');
  return out.join('\n') + '\n';
}
