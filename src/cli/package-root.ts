import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory of ordo's package.json, found from this file upwards: the same whether
 * the code runs from src/ (the repository) or from dist/src/ (the installed package).
 */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'ordo') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json of ordo above ${fileURLToPath(from)}`);
    dir = up;
  }
}
