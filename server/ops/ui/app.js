// app.js - the dashboard's shell: the session (and its login form), the
// calls to /api/, the routes of the page's address (#/...), the banner
// for errors, and the timer that refreshes a live view.
import { el } from "./render.js";
import * as views from "./views.js";

const main = document.getElementById("main");
const banner = document.getElementById("banner");
let timer = null;
let session = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// api calls the JSON API. A POST carries the header that shows it comes
// from this page (the server refuses a POST without it); the session
// cookie goes along by itself and is never visible here (HttpOnly).
async function api(method, path, params, body) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const url = "/api/" + path + (q.toString() ? "?" + q : "");
  const init = { method, credentials: "same-origin", headers: {} };
  if (method === "POST") {
    init.headers["X-Cairn-Csrf"] = "1";
    if (body !== undefined) {
      init.body = body;
      init.headers["Content-Type"] = "application/octet-stream";
    }
  }
  const res = await fetch(url, init);
  const doc = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = doc.error || {};
    if (res.status === 401 && path !== "login") showLogin();
    throw new ApiError(res.status, e.code || String(res.status),
      e.message || res.statusText);
  }
  return doc;
}

function showError(e) {
  banner.textContent = e instanceof ApiError
    ? `${e.code}: ${e.message}` : String(e.message || e);
  banner.hidden = false;
}

function clearError() {
  banner.hidden = true;
  banner.textContent = "";
}

// confirmAction asks before an action, does it, and says how it went.
async function confirmAction(question, fn) {
  if (!window.confirm(question)) return false;
  try {
    await fn();
    clearError();
    return true;
  } catch (e) {
    showError(e);
    return false;
  }
}

function every(ms, fn) {
  stopTimer();
  timer = setInterval(() => {
    if (!document.hidden) fn();
  }, ms);
}

function stopTimer() {
  if (timer !== null) clearInterval(timer);
  timer = null;
}

const ctx = {
  api,
  confirmAction,
  every,
  showError,
  get readOnly() { return session && session.read_only; },
  go(hash) { location.hash = hash; },
  refresh() { return route(); },
};

const routes = [
  [/^#\/queues$/, views.queues],
  [/^#\/queue\/([^?]+)$/, views.queue],
  [/^#\/task\/(\d+)$/, views.task],
  [/^#\/workflows$/, views.workflows],
  [/^#\/run\/(\d+)$/, views.run],
  [/^#\/search$/, views.search],
];

// route shows the view of the address: #/queue/NAME?state=failed&after=7.
async function route() {
  stopTimer();
  clearError();
  const [path, query] = (location.hash || "#/queues").split("?");
  const params = Object.fromEntries(new URLSearchParams(query || ""));
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.classList.toggle("active", path.startsWith("#/" + a.dataset.nav));
  }
  for (const [re, view] of routes) {
    const m = path.match(re);
    if (!m) continue;
    const node = el("div", { class: "view" });
    try {
      await view(ctx, node, decodeURIComponent(m[1] || ""), params);
    } catch (e) {
      showError(e);
    }
    main.replaceChildren(node);
    // Which address the view shows, for tests that wait for it.
    main.dataset.route = location.hash;
    return;
  }
  location.hash = "#/queues";
}

function showLogin() {
  stopTimer();
  const input = el("input", { type: "password", name: "token",
    autocomplete: "current-password", required: true, id: "token" });
  const err = el("p", { class: "err", id: "login-error" });
  const form = el("form", { class: "card login", id: "login",
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const r = await fetch("/api/login", { method: "POST",
          credentials: "same-origin",
          headers: { "X-Cairn-Csrf": "1",
            "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ token: input.value }).toString() });
        if (!r.ok) {
          const d = await r.json().catch(() => ({}));
          err.textContent = (d.error && d.error.message) || r.statusText;
          return;
        }
        await start();
      } catch (e) {
        err.textContent = String(e.message || e);
      }
    } },
    el("h1", {}, "Log in to Cairn"),
    el("label", { for: "token" }, "A token of the server's --token-file"),
    input, err, el("button", { class: "primary", type: "submit" }, "Log in"));
  main.replaceChildren(form);
  input.focus();
}

function showWho() {
  const who = document.getElementById("who");
  who.replaceChildren();
  if (session.read_only) {
    who.append(el("span", { class: "badge readonly" }, "read-only"));
  }
  if (session.token_required) {
    who.append(el("button", { id: "logout", onclick: async () => {
      await api("POST", "logout").catch(() => {});
      session = null;
      showLogin();
    } }, "Log out"));
  }
  document.getElementById("footer").textContent =
    `cairnd ${session.version} · store ${session.store}`;
}

async function start() {
  try {
    session = await api("GET", "session");
  } catch (e) {
    showError(e);
    return;
  }
  if (!session.authenticated) {
    showLogin();
    return;
  }
  showWho();
  await route();
}

document.getElementById("search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = document.getElementById("search-q").value.trim();
  if (q) location.hash = "#/search?" + new URLSearchParams({ q });
});
window.addEventListener("hashchange", () => {
  if (session && session.authenticated) route();
});
start();
