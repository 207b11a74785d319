// m9m console: the shell (sign-in, session refresh, navigation, errors)
// and its pages. Everything goes through the public API (api.js).
import { api, ApiError, onUnauthorized, refreshingSession } from "./api.js";
import { pages } from "./pages.js";

const $ = (id) => document.getElementById(id);
const state = { me: null, refreshTimer: 0, signingIn: null, page: "" };

// ---- messages ---------------------------------------------------------

export function showError(err) {
  const box = $("error");
  let text = err instanceof ApiError ? err.message : String(err && err.message ? err.message : err);
  if (err instanceof ApiError && err.details.length) {
    text += " — " + err.details.map((d) => `${d.field}: ${d.message}`).join("; ");
  }
  box.textContent = text;
  box.hidden = false;
}

export function notify(text) {
  $("error").hidden = true;
  $("notice").textContent = text;
}

function clearMessages() {
  $("error").hidden = true;
  $("error").textContent = "";
  $("notice").textContent = "";
}

/** Runs an action of a page, showing its failure instead of throwing. */
export async function attempt(fn) {
  try {
    clearMessages();
    return await fn();
  } catch (err) {
    showError(err);
    return undefined;
  }
}

export function me() {
  return state.me;
}

// ---- session ----------------------------------------------------------

// The refresh runs a minute before the token expires (half-way for short
// tokens). Tabs racing to refresh get the same successor (§4 grace).
function scheduleRefresh(expiresAt) {
  clearTimeout(state.refreshTimer);
  if (!expiresAt) return;
  const left = Date.parse(expiresAt) - Date.now();
  const delay = left > 120_000 ? left - 60_000 : Math.max(1_000, left / 2);
  state.refreshTimer = setTimeout(refresh, delay);
}

async function refresh() {
  try {
    const r = await refreshingSession(api("POST", "/api/v1/auth/refresh", undefined, { signIn: false }));
    scheduleRefresh(r.expiresAt);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      await requireSignIn(true);
    } else {
      state.refreshTimer = setTimeout(refresh, 10_000); // transient: retry soon
    }
  }
}

async function loadMe() {
  state.me = await api("GET", "/api/v1/auth/me", undefined, { signIn: false });
  const u = state.me.user;
  $("whoami").textContent = `${u.username} (${u.role})`;
  $("logout").hidden = false;
  for (const a of document.querySelectorAll("nav a[data-needs]")) {
    a.hidden = !state.me.permissions.includes(a.dataset.needs);
  }
  $("nav").hidden = false;
  scheduleRefresh(state.me.expiresAt);
}

/**
 * Shows the sign-in in place of the page (which stays in the DOM, hidden,
 * with everything typed into it) and resolves once signed in again.
 */
function requireSignIn(expired = false) {
  if (state.signingIn) return state.signingIn.promise;
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  state.signingIn = { promise, resolve };
  clearTimeout(state.refreshTimer);
  $("view").hidden = true;
  $("nav").hidden = true;
  $("logout").hidden = true;
  $("whoami").textContent = "";
  $("signin-why").hidden = !expired;
  $("signin").hidden = false;
  $("login-username").focus();
  return promise;
}

async function signIn(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    clearMessages();
    const before = state.me && state.me.user.id;
    await api("POST", "/api/v1/auth/login", {
      username: $("login-username").value,
      password: $("login-password").value,
      session: "cookie",
    }, { signIn: false });
    $("login-password").value = "";
    await loadMe();
    if (before && before !== state.me.user.id) {
      location.reload(); // another user: nothing of the old page is theirs
      return;
    }
    $("signin").hidden = true;
    $("view").hidden = false;
    const waiting = state.signingIn;
    state.signingIn = null;
    if (waiting) waiting.resolve();
    if (!state.page) route();
    else $("main").focus();
  } catch (err) {
    showError(err.status === 401 ? new Error("Wrong username or password.") : err);
    $("login-password").focus();
  } finally {
    button.disabled = false;
  }
}

async function signOut() {
  await attempt(async () => {
    await api("POST", "/api/v1/auth/logout", undefined, { signIn: false });
    state.me = null;
    state.page = "";
    $("view").replaceChildren();
    await requireSignIn(false);
  });
}

// ---- navigation -------------------------------------------------------

async function route() {
  if (!state.me) return;
  const name = (location.hash.replace(/^#\//, "") || "me").split("?")[0];
  const page = pages[name] || pages.me;
  state.page = name;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.page === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  clearMessages();
  const view = $("view");
  view.replaceChildren();
  await attempt(() => page(view));
  const h1 = view.querySelector("h1");
  if (h1) {
    h1.tabIndex = -1;
    h1.focus();
  }
}

async function boot() {
  onUnauthorized(() => requireSignIn(true));
  $("signin-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  try {
    await loadMe();
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) showError(err);
    await requireSignIn(false);
    return;
  }
  await route();
}

boot();
