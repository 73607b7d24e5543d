import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes the exported files into `dir`, or prints them one after the other, each under a header line naming the file. */
export function writeExport(dir: string | undefined, files: readonly { name: string; text: string }[]): void {
  if (dir !== undefined) {
    mkdirSync(dir, { recursive: true });
    for (const f of files) writeFileSync(join(dir, f.name), f.text);
    process.stderr.write(`wrote ${files.map((f) => join(dir, f.name)).join(', ')}\n`);
    return;
  }
  if (files.length === 1) {
    process.stdout.write(files[0]?.text ?? '');
    return;
  }
  for (const f of files) process.stdout.write(`\\* ==== file ${f.name} ====\n${f.text}\n`);
}
