/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return --
   plain browser JavaScript without type annotations (no build step): values are `any` to the type checker; the other typed rules still apply. */
/* global fetch, sessionStorage, location, history, URLSearchParams */
// The admin token: from the URL fragment `#token=…` (which the server never sees),
// kept in sessionStorage for this tab only, or typed into the token box.

const KEY = 'ordo.adminToken';

/** Takes `#token=…` out of the address bar into sessionStorage; returns the token in use, if any. */
export function initToken() {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromUrl = fragment.get('token');
  if (fromUrl) {
    sessionStorage.setItem(KEY, fromUrl);
    fragment.delete('token');
    const rest = fragment.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  }
  return sessionStorage.getItem(KEY);
}

export const hasToken = () => !!sessionStorage.getItem(KEY);

export function setToken(token) {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the gateway with the bearer token; throws ApiError with the server's message on 4xx/5xx. */
export async function api(path, options = {}) {
  const token = sessionStorage.getItem(KEY);
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const init = { method: options.method ?? 'GET', headers };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: { code: 'NOT_JSON', message: text.slice(0, 200) } };
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: String(res.status), message: res.statusText };
    throw new ApiError(res.status, err.code, err.message);
  }
  return data;
}
