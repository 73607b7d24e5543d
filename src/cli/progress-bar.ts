/** A one-line progress bar on stderr (redrawn in place on a terminal, plain lines otherwise). */
export function progressBar(label: string, total: number): { update(done: number, note?: string): void; end(note?: string): void } {
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const draw = (done: number, note = '', final = false) => {
    const width = 30;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${note ? `  ${note}` : ''}`;
    if (tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    else if (final || Date.now() - lastLine > 1000) {
      lastLine = Date.now();
      process.stderr.write(`${line}\n`);
    }
  };
  return { update: (d, n) => draw(d, n), end: (n) => draw(total, n, true) };
}
