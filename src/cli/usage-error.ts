/** Bad flags or arguments: a clear message on stderr and exit code 2, never a stack trace. */
export function failUsage(message: string): never {
  process.stderr.write(`ordo: ${message}\n`);
  process.exit(2);
}
