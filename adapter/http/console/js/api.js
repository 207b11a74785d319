// The console's one door to the public API. The session lives in an
// httpOnly cookie the browser sends by itself; no token ever passes through
// this code. Unsafe requests are always application/json, which the
// server's CSRF check requires.

/** An error answer of the API (the contract's envelope). */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.details = (body && body.details) || [];
  }
}

let reauthenticate = null;
let refreshing = null;

/**
 * Marks p, a refresh of the session, as in flight and returns it: a request
 * answered 401 meanwhile (it carried the cookie the refresh is replacing,
 * which is refused everywhere from the moment the refresh starts) waits for
 * it, then is sent again with the new cookie.
 */
export function refreshingSession(p) {
  refreshing = p;
  const done = () => {
    if (refreshing === p) refreshing = null;
  };
  p.then(done, done);
  return p;
}

/** Sets the function that brings the sign-in back and resolves once signed in. */
export function onUnauthorized(fn) {
  reauthenticate = fn;
}

function init(method, body) {
  const i = { method, credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" };
  if (method !== "GET") {
    i.headers["Content-Type"] = "application/json";
    if (body !== undefined) i.body = JSON.stringify(body);
  }
  return i;
}

/**
 * Calls the API. A 401 is retried once (after this tab's refresh in flight,
 * if any; otherwise as is: another tab may have just rotated the cookie),
 * then, unless opts.signIn is false, the sign-in is brought back and the
 * request is sent again once signed in: the page the user was on is kept.
 */
export async function api(method, path, body, opts = {}) {
  let res = await fetch(path, init(method, body));
  if (res.status === 401 && opts.signIn !== false) {
    if (refreshing) await refreshing.then(() => {}, () => {});
    res = await fetch(path, init(method, body));
    if (res.status === 401 && reauthenticate) {
      await reauthenticate();
      res = await fetch(path, init(method, body));
    }
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Builds a query string from the non-empty entries of params. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
