// views.js - the views of the dashboard. Each one reads what it shows
// from the API (a page at a time) and builds its part of the page.
import {
  ago, append, badge, bytesView, chart, dur, el, fields, link, preview, when,
} from "./render.js";

const TASK_STATES = ["pending", "active", "succeeded", "failed", "canceled"];
const RUN_STATES = ["running", "succeeded", "failed", "canceled",
  "terminated"];
const PAGE = 50;

function sum(a) {
  return a.reduce((x, y) => x + y, 0);
}

// rates says what a queue's workers did over the last minute: attempts
// that succeeded per minute, and the share of attempts that failed.
function rates(act, bucketMs) {
  const n = Math.max(1, Math.round(60000 / bucketMs));
  const ok = sum(act.succeeded.slice(-n));
  const bad = sum(act.failed.slice(-n));
  return { perMin: ok, failPct: ok + bad ? (100 * bad) / (ok + bad) : null };
}

function queueRow(q, bucketMs) {
  const r = rates(q.activity, bucketMs);
  const count = (state) => el("td", { class: "num" },
    link(`#/queue/${q.queue}?state=${state}`, String(q[state]),
      { "data-count": state }));
  return el("tr", { "data-queue": q.queue },
    el("td", {}, link(`#/queue/${q.queue}`, q.queue)),
    TASK_STATES.map(count),
    el("td", { class: "num", "data-count": "due" }, String(q.due)),
    el("td", { class: "num" }, q.due ? dur(q.oldest_due_age_ms) : "-"),
    el("td", {}, chart(q.activity, bucketMs)),
    el("td", { class: "num", "data-rate": "throughput" }, String(r.perMin)),
    el("td", { class: "num", "data-rate": "failure" },
      r.failPct === null ? "-" : r.failPct.toFixed(1) + "%"));
}

export async function queues(ctx, node) {
  const table = el("table", { id: "queues" });
  const stamp = el("p", { class: "muted" });
  const draw = async () => {
    const d = await ctx.api("GET", "queues");
    const head = el("tr", {}, el("th", {}, "Queue"),
      TASK_STATES.map((s) => el("th", { class: "num" }, s)),
      el("th", { class: "num" }, "due now"),
      el("th", { class: "num" }, "oldest due"),
      el("th", {}, `last ${Math.round(d.bucket_ms * 60 / 60000)} min`),
      el("th", { class: "num" }, "done/min"),
      el("th", { class: "num" }, "failed"));
    const rows = d.queues.map((q) => queueRow(q, d.bucket_ms));
    table.replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
    stamp.textContent = d.queues.length === 0
      ? "No tasks yet. Enqueue one: cairn enqueue QUEUE --payload TEXT"
      : `Counted ${when(d.counted_at_ms)}; refreshed every 5 s. ` +
        "Bars: attempts that succeeded (green) and failed (red) per " +
        `${dur(d.bucket_ms)}.`;
  };
  await draw();
  append(node, [el("h1", {}, "Queues"), table, stamp]);
  ctx.every(5000, () => draw().catch(ctx.showError));
}

// pager links the first page and the next one (lists are read by key
// order, a page after another: no count of the whole list is needed).
function pager(base, params, after, next) {
  const q = (extra) => base + "?" + new URLSearchParams({ ...params,
    ...extra });
  return el("div", { class: "pager" },
    after ? link(q({}), "← First page", { "data-page": "first" }) : null,
    next ? link(q({ after: next }), "Next page →", { "data-page": "next" })
      : null);
}

export async function queue(ctx, node, name, params) {
  const state = params.state || "pending";
  const d = await ctx.api("GET", "tasks", { queue: name,
    state, after: params.after, limit: PAGE });
  const tabs = el("div", { class: "tabs" }, [...TASK_STATES, "any"].map(
    (s) => link(`#/queue/${name}?state=${s}`, s,
      { class: s === state ? "active" : "" })));
  const rows = d.tasks.map((t) => el("tr", { "data-task": t.id },
    el("td", {}, link(`#/task/${t.id}`, String(t.id))),
    el("td", {}, badge(t.state)),
    el("td", { class: "num" }, `${t.attempt}/${t.max_attempts}`),
    el("td", { class: "num" }, String(t.priority)),
    el("td", {}, t.state === "pending" ? when(t.run_at_ms) : "-"),
    el("td", {}, ago(t.updated_at_ms)),
    el("td", {}, t.worker_id || "-"),
    el("td", {}, preview(t, "payload")),
    el("td", { class: "err" }, t.last_error || "")));
  const table = el("table", { id: "tasks" }, el("thead", {}, el("tr", {},
    ["id", "state", "attempt", "priority", "run at", "updated", "worker",
      "payload", "last error"].map((h) => el("th", {}, h)))),
  el("tbody", {}, rows));
  append(node, [el("h1", {}, `Queue ${name}`), tabs,
    d.tasks.length ? table : el("p", { class: "muted" },
      `No ${state === "any" ? "" : state + " "}tasks` +
      (params.after ? " after this point." : ".")),
    pager(`#/queue/${name}`, { state }, params.after, d.next_after)]);
}

function taskActions(ctx, t, redraw) {
  if (ctx.readOnly) return null;
  const retry = ["failed", "canceled"].includes(t.state) &&
    el("button", { id: "retry", class: "primary", onclick: () =>
      ctx.confirmAction(`Retry task ${t.id}? It becomes pending with ` +
        "a fresh budget of attempts.", () =>
        ctx.api("POST", "task/retry", { id: t.id })).then(
        (ok) => ok && redraw()) }, "Retry");
  const cancel = ["pending", "active"].includes(t.state) &&
    el("button", { id: "cancel", class: "danger", onclick: () =>
      ctx.confirmAction(`Cancel task ${t.id}?` + (t.state === "active"
        ? " Its worker learns it at its next heartbeat." : ""), () =>
        ctx.api("POST", "task/cancel", { id: t.id })).then(
        (ok) => ok && redraw()) }, "Cancel");
  return el("div", { class: "actions" }, retry, cancel);
}

// attempts groups a task's events by attempt: each attempt with its
// worker and how it ended, in order.
function attempts(events) {
  const groups = [];
  for (const e of events) {
    let g = groups[groups.length - 1];
    if (!g || g.attempt !== e.attempt) {
      g = { attempt: e.attempt, worker: "", events: [] };
      groups.push(g);
    }
    if (e.worker_id) g.worker = e.worker_id;
    g.events.push(e);
  }
  return groups.map((g) => el("div", { class: "attempt",
    "data-attempt": g.attempt },
  el("h3", {}, g.attempt === 0 ? "Before the first attempt"
    : `Attempt ${g.attempt}` + (g.worker ? ` · worker ${g.worker}` : "")),
  el("ul", { class: "timeline" }, g.events.map((e) => el("li", {
    class: ["completed"].includes(e.kind) ? "ok"
      : ["failed", "expired", "canceled"].includes(e.kind) ? "bad" : "" },
  el("div", { class: "row" }, el("strong", {}, e.kind +
      (e.count ? ` ×${e.count}` : "")),
    el("span", { class: "muted" }, when(e.at_ms) +
      (e.count ? ` … ${when(e.last_at_ms)}` : ""))),
  e.message ? el("div", { class: ["failed", "expired"].includes(e.kind)
    ? "err" : "muted" }, e.message) : null)))));
}

export async function task(ctx, node, id) {
  const d = await ctx.api("GET", "task", { id });
  const t = d.task;
  const redraw = () => ctx.refresh();
  append(node, [
    el("h1", {}, `Task ${t.id} `, badge(t.state)),
    taskActions(ctx, t, redraw),
    el("div", { class: "card" }, fields([
      ["queue", link(`#/queue/${t.queue}?state=${t.state}`, t.queue)],
      ["state", t.state + (t.cancel_requested ? " (cancel requested)" : "")],
      ["attempt", `${t.attempt} of ${t.max_attempts}`],
      ["priority", String(t.priority)],
      ["run at", when(t.run_at_ms)],
      ["retry", `${dur(t.retry.initial_backoff_ms)} × ` +
        `${t.retry.multiplier}, at most ${dur(t.retry.max_backoff_ms)}`],
      ["heartbeat timeout", dur(t.heartbeat_timeout_ms)],
      ["start-to-close timeout", t.start_to_close_timeout_ms
        ? dur(t.start_to_close_timeout_ms) : "none"],
      ["idempotency key", t.idempotency_key || "-"],
      ["worker", t.worker_id || "-"],
      ["lease deadline", when(t.lease_deadline_ms)],
      ["last error", el("span", { class: "err" }, t.last_error || "-")],
      ["created", when(t.created_at_ms)],
      ["updated", when(t.updated_at_ms)],
      ["finished", when(t.finished_at_ms)],
    ])),
    el("div", { class: "card" }, bytesView(t, "payload"),
      bytesView(t, "result"), bytesView(t, "details", "heartbeat details")),
    el("h2", {}, "History"),
    el("div", { id: "history" }, attempts(d.events))]);
}

function runRow(r) {
  return el("tr", { "data-run": r.run_id },
    el("td", {}, link(`#/run/${r.run_id}`, String(r.run_id))),
    el("td", {}, r.workflow_id),
    el("td", {}, r.type),
    el("td", {}, badge(r.state), r.stuck ? [" ", badge("stuck")] : null),
    el("td", { class: "num" }, String(r.log_length)),
    el("td", {}, ago(r.updated_at_ms)),
    el("td", { class: "err" }, r.stuck ? r.stuck_reason : r.error));
}

function runTable(id, runs) {
  return el("table", { id }, el("thead", {}, el("tr", {},
    ["run", "workflow id", "type", "state", "entries", "updated",
      "error"].map((h) => el("th", {}, h)))),
  el("tbody", {}, runs.map(runRow)));
}

export async function workflows(ctx, node, _, params) {
  const [types, stuck, runs] = await Promise.all([
    ctx.api("GET", "workflows"),
    ctx.api("GET", "runs", { stuck: 1, type: params.type, limit: PAGE }),
    ctx.api("GET", "runs", { type: params.type, state: params.state,
      after: params.after, limit: PAGE }),
  ]);
  const typeRows = types.types.map((t) => el("tr", { "data-type": t.type },
    el("td", {}, link(`#/workflows?type=${t.type}`, t.type)),
    RUN_STATES.map((s) => el("td", { class: "num" },
      link(`#/workflows?type=${t.type}&state=${s}`, String(t[s]),
        { "data-count": s }))),
    el("td", { class: "num", "data-count": "stuck" }, String(t.stuck))));
  const filter = (key, options) => el("select", { "data-filter": key,
    onchange: (ev) => {
      const p = { ...params, [key]: ev.target.value };
      delete p.after;
      ctx.go("#/workflows?" + new URLSearchParams(p));
    } },
  options.map((o) => el("option", { value: o, selected: (params[key] ||
      "") === o }, o || `any ${key}`)));
  append(node, [el("h1", {}, "Workflows"),
    types.types.length ? el("table", { id: "types" }, el("thead", {},
      el("tr", {}, el("th", {}, "type"),
        RUN_STATES.map((s) => el("th", { class: "num" }, s)),
        el("th", { class: "num" }, "stuck"))), el("tbody", {}, typeRows))
      : el("p", { class: "muted" }, "No workflow runs yet."),
    el("h2", {}, "Stuck runs"),
    stuck.runs.length ? runTable("stuck", stuck.runs)
      : el("p", { class: "muted" }, "None: every running run replays."),
    el("h2", {}, "Runs"),
    el("div", { class: "filters" },
      filter("type", ["", ...types.types.map((t) => t.type)]),
      filter("state", ["", ...RUN_STATES])),
    runs.runs.length ? runTable("runs", runs.runs)
      : el("p", { class: "muted" }, "No runs match."),
    pager("#/workflows", { type: params.type || "",
      state: params.state || "" }, params.after, runs.next_after)]);
  ctx.every(10000, () => ctx.refresh());
}

function entryRef(e) {
  if (e.kind === "activity" && e.task_id) {
    return link(`#/task/${e.task_id}`, `task ${e.task_id}`);
  }
  if (e.kind === "child" && e.child_run_id) {
    return link(`#/run/${e.child_run_id}`, `run ${e.child_run_id}`);
  }
  if (e.fire_at_ms) return `at ${when(e.fire_at_ms)}`;
  return null;
}

function entryItem(e) {
  const took = e.resolved_at_ms ? dur(e.resolved_at_ms - e.created_at_ms)
    : null;
  return el("li", { "data-seq": e.seq, class: e.status === "completed"
    ? "ok" : e.status === "pending" ? "wait" : "bad" },
  el("div", { class: "row" },
    el("strong", {}, `${e.seq}. ${e.kind}`), e.name ? el("span", {},
      e.name) : null, badge(e.status),
    el("span", { class: "muted" }, when(e.created_at_ms) +
      (took ? ` · took ${took}` : "")),
    e.kind === "activity" ? el("span", {}, `${e.attempts} attempt` +
      (e.attempts === 1 ? "" : "s") + (e.queue ? ` on ${e.queue}` : ""))
      : null,
    entryRef(e)),
  e.error ? el("div", { class: "err" }, e.error) : null,
  el("details", {}, el("summary", {}, "input and result"),
    bytesView(e, "input"), bytesView(e, "result")));
}

function runActions(ctx, r, redraw) {
  if (ctx.readOnly || r.state !== "running") return null;
  const ref = { id: r.run_id };
  const name = el("input", { id: "signal-name", placeholder: "signal name",
    required: true });
  const payload = el("textarea", { id: "signal-payload", rows: 2,
    placeholder: "payload (text, optional)" });
  return el("div", {},
    el("div", { class: "actions" },
      el("button", { id: "cancel-run", class: "danger", onclick: () =>
        ctx.confirmAction(`Cancel run ${r.run_id}? Its waits end ` +
          "canceled and its code decides how to finish.", () =>
          ctx.api("POST", "run/cancel", ref)).then((ok) => ok && redraw())
      }, "Cancel"),
      el("button", { id: "terminate-run", class: "danger", onclick: () =>
        ctx.confirmAction(`Terminate run ${r.run_id}? It ends at once, ` +
          "without running any more of its code.", () =>
          ctx.api("POST", "run/terminate", ref)).then(
          (ok) => ok && redraw()) }, "Terminate")),
    el("form", { class: "signal card", onsubmit: (ev) => {
      ev.preventDefault();
      ctx.confirmAction(`Send the signal "${name.value}" to run ` +
        `${r.run_id}?`, () => ctx.api("POST", "run/signal",
        { ...ref, name: name.value }, payload.value)).then(
        (ok) => ok && redraw());
    } }, el("strong", {}, "Send a signal"), name, payload,
    el("button", { type: "submit", id: "signal-send" }, "Send")));
}

export async function run(ctx, node, id, params) {
  const d = await ctx.api("GET", "run", { id, after_seq: params.after,
    limit: 200 });
  const r = d.run;
  const redraw = () => ctx.refresh();
  append(node, [
    el("h1", {}, `Run ${r.run_id} `, badge(r.state),
      r.stuck ? [" ", badge("stuck")] : null),
    runActions(ctx, r, redraw),
    el("div", { class: "card" }, fields([
      ["workflow id", r.workflow_id],
      ["type", link(`#/workflows?type=${r.type}`, r.type)],
      ["queue", r.queue],
      ["state", r.state + (r.cancel_requested ? " (cancel requested)" : "")],
      ["stuck", r.stuck ? el("span", { class: "err" }, r.stuck_reason)
        : "no"],
      ["error", r.error || "-"],
      ["log", `${r.log_length} entries`],
      ["workflow task", `attempt ${r.task_attempt}` + (r.leased
        ? `, leased by ${r.worker_id} until ${when(r.lease_deadline_ms)}`
        : r.runnable ? ", waiting for a workflow worker" : "")],
      ["parent", r.parent_run_id ? link(`#/run/${r.parent_run_id}`,
        `run ${r.parent_run_id}, entry ${r.parent_seq}`) : "-"],
      ["created", when(r.created_at_ms)],
      ["updated", when(r.updated_at_ms)],
      ["finished", when(r.finished_at_ms)],
    ])),
    el("div", { class: "card" }, bytesView(r, "input"),
      bytesView(r, "result")),
    el("h2", {}, "Log"),
    d.entries.length ? el("ul", { class: "timeline", id: "log" },
      d.entries.map(entryItem)) : el("p", { class: "muted" },
      "No entries" + (params.after ? " after this point." : " yet.")),
    pager(`#/run/${r.run_id}`, {}, params.after, d.next_after_seq)]);
  // Live while it runs, but never under the hands of someone typing a
  // signal.
  if (r.state === "running") {
    ctx.every(5000, () => {
      const busy = [...node.querySelectorAll("input, textarea")].some(
        (i) => i.value !== "" || i === document.activeElement);
      if (!busy) ctx.refresh();
    });
  }
}

export async function search(ctx, node, _, params) {
  const d = await ctx.api("GET", "search", { q: params.q });
  if (d.tasks.length + d.runs.length === 1) {
    ctx.go(d.tasks.length ? `#/task/${d.tasks[0].id}`
      : `#/run/${d.runs[0].run_id}`);
    return;
  }
  append(node, [el("h1", {}, `Search: ${params.q}`)]);
  if (!d.tasks.length && !d.runs.length) {
    append(node, [el("p", { class: "muted", id: "no-match" },
      "Nothing has that task id, run id, workflow id or idempotency key.")]);
    return;
  }
  if (d.tasks.length) {
    append(node, [el("h2", {}, "Tasks"), el("table", { id: "found-tasks" },
      el("tbody", {}, d.tasks.map((t) => el("tr", {},
        el("td", {}, link(`#/task/${t.id}`, String(t.id))),
        el("td", {}, t.queue), el("td", {}, badge(t.state)),
        el("td", {}, t.idempotency_key || "")))))]);
  }
  if (d.runs.length) append(node, [el("h2", {}, "Runs"),
    runTable("found-runs", d.runs)]);
}
