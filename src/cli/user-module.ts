import { pathToFileURL } from 'node:url';

/** A user's module could not be loaded; `message` says what to do. */
export class UserModuleError extends Error {}

let tsxRegistered = false;

/**
 * Imports a user's module by path: compiled JavaScript as it is; TypeScript (`.ts`, `.mts`,
 * `.cts`) through tsx when the process cannot load it by itself (the installed package runs
 * compiled code, without tsx) and tsx is installed in the user's project.
 */
export async function importUserModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (!/\.[cm]?ts$/.test(path) || code !== 'ERR_UNKNOWN_FILE_EXTENSION' || tsxRegistered) throw e;
  }
  try {
    const { register } = (await import('tsx/esm/api')) as { register: () => unknown };
    register();
    tsxRegistered = true;
  } catch {
    throw new UserModuleError(`${path} is TypeScript: install tsx in your project (npm i -D tsx) and run the command again, or compile it and pass the .js file`);
  }
  // A new URL: Node keeps the failed first load of the plain one.
  return (await import(`${url}?tsx`)) as Record<string, unknown>;
}
