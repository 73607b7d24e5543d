import type { Command } from 'commander';
import type { ChaosFlags, ChaosOptions } from './chaos/chaos-options.js';
import type { ChaosProgress } from './chaos/chaos-run.js';
import { progressBar } from './progress-bar.js';
import { failUsage } from './usage-error.js';

const DEFAULT_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

/** One updating line per phase: orders placed (load) or finished (settle), faults so far, time since the first order. */
function progressLine(): { update(p: ChaosProgress): void; end(): void } {
  let bar: ReturnType<typeof progressBar> | undefined;
  let phase: string | undefined;
  let note = '';
  let done = 0;
  return {
    update(p) {
      if (p.phase !== phase) {
        this.end();
        phase = p.phase;
        bar = progressBar(p.phase === 'load' ? 'placing ' : 'settling', p.phase === 'load' ? p.planned : p.placed);
      }
      note = `${p.phase === 'load' ? `${p.finished} finished` : `${p.placed} placed`} · ${p.faults} faults · ${(p.elapsedMs / 1000).toFixed(0)}s${p.current ? ` · ${p.current}` : ''}`;
      done = p.phase === 'load' ? p.placed : p.finished;
      bar?.update(done, note);
    },
    /** Leaves the line as it is (progressBar's own end() would draw it full). */
    end() {
      if (bar && process.stderr.isTTY) process.stderr.write('\n');
      bar = undefined;
    },
  };
}

export function registerChaos(program: Command): void {
  program
    .command('chaos')
    .description(
      'fault injection: run the shop as five processes on a fresh PostgreSQL namespace and a private broker (nats-server, or Kafka with --kafka), place orders at a steady rate while a seeded plan kills, pauses and restarts processes and the broker, then check every invariant (exit 1 if one fails or an order never finished)',
    )
    .option('--postgres <url>', 'PostgreSQL server the run creates its databases on (dropped afterwards)', DEFAULT_POSTGRES)
    .option('--mode <mode>', 'orchestration or choreography', 'orchestration')
    .option('--duration <d>', 'place orders for this long, e.g. 60s, 5m (default 60s)')
    .option('--orders <n>', 'place this many orders instead (not with --duration)')
    .option('--rate <r>', 'orders per second', '10')
    .option('--seed <n>', 'seed of the fault plan: same seed, same faults at the same times (default: random, printed in the report)')
    .option('--faults <list>', 'faults to inject: kill (a shop process), broker (kill the nats-server or Kafka broker; nats and kafka also name it), pause (SIGSTOP a process), or none', 'kill,broker,pause')
    .option('--fault-every <d>', 'mean time between one fault ending and the next starting', '5s')
    .option('--settle-timeout <d>', 'how long to wait after the load for every order to finish', '120s')
    .option('--ack-wait <d>', "services' NATS ack wait: how soon the message a killed process was handling comes back (NATS runs)", '5s')
    .option('--relay-lease <d>', "services' outbox relay lease: how soon a killed process's relay is taken over", '5s')
    .option('--payment-timeout <d>', "the order saga's payment timeout (shorter: more orders take the timeout-and-refund path when a fault delays payment)", '10s')
    .option('--nats-server <path>', 'nats-server binary (default: from PATH, else /usr/sbin/nats-server)')
    .option('--kafka', 'run the shop on a private Kafka broker (its own ports and data dir; the shared one is not touched) instead of a nats-server')
    .option('--kafka-jars <dir>', 'Kafka broker jars (default: .cache/kafka/jars, fetched by scripts/kafka.sh jars when missing)')
    .option('--keep', 'keep the databases, the logs and the broker store afterwards')
    .option('--json', 'print the report as one JSON object')
    .action(async (flags: ChaosFlags) => {
      // Loaded here, not at the top, so the other commands start without the shop.
      const [{ ChaosFlagError, chaosOptionsFromFlags }, { formatChaosReport }, { ChaosAbortedError, runChaos }, { killAllChildrenNow }, { NatsServerNotFoundError }, { KafkaNotFoundError }] = await Promise.all([
        import('./chaos/chaos-options.js'),
        import('./chaos/chaos-report.js'),
        import('./chaos/chaos-run.js'),
        import('./chaos/managed-process.js'),
        import('./chaos/private-nats.js'),
        import('./chaos/private-kafka.js'),
      ]);
      let options: ChaosOptions;
      try {
        options = chaosOptionsFromFlags(flags, () => Math.floor(Math.random() * 0x1_0000_0000));
      } catch (e) {
        if (e instanceof ChaosFlagError) return failUsage(e.message);
        throw e;
      }
      const controller = new AbortController();
      let exitCode = 130;
      const interrupt = (sig: 'SIGINT' | 'SIGTERM') => {
        exitCode = sig === 'SIGINT' ? 130 : 143;
        if (controller.signal.aborted) {
          process.stderr.write(`\nordo chaos: ${sig} again, killing every process now (the databases and the temp folder stay)\n`);
          process.exit(exitCode);
        }
        process.stderr.write(`\nordo chaos: ${sig}, stopping the run and cleaning up (again to force)…\n`);
        controller.abort();
      };
      process.on('SIGINT', () => interrupt('SIGINT'));
      process.on('SIGTERM', () => interrupt('SIGTERM'));
      process.on('exit', killAllChildrenNow);

      process.stderr.write(`ordo chaos: seed ${options.seed}, ${options.mode} on ${options.broker === 'kafka' ? 'Kafka' : 'NATS'}, faults ${options.faults.join(',') || 'none'}\n`);
      const line = progressLine();
      try {
        const report = await runChaos(options, {
          signal: controller.signal,
          onStep: (m) => {
            line.end();
            process.stderr.write(`ordo chaos: ${m}\n`);
          },
          onProgress: (p) => line.update(p),
        });
        process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `\n${formatChaosReport(report)}`);
        process.exitCode = report.ok ? 0 : 1;
      } catch (err) {
        if (err instanceof ChaosAbortedError) {
          process.stderr.write(`ordo chaos: interrupted; processes stopped${options.keep ? '' : ', databases dropped'}\n`);
          process.exitCode = exitCode;
          return;
        }
        if (err instanceof NatsServerNotFoundError || err instanceof KafkaNotFoundError) return failUsage(err.message);
        process.stderr.write(`ordo chaos: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
}
