// render.js - building the page's elements. Everything the server sends
// is put in as text (textContent, attribute values set one by one); no
// string of it is ever parsed as HTML, so a payload of "<script>" shows
// as those characters.

export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  append(e, children);
  return e;
}

// append adds children to e: nodes, text, arrays of them; null,
// undefined and false add nothing.
export function append(e, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function link(href, text, attrs) {
  return el("a", { href, ...attrs }, text);
}

export function badge(state, text) {
  return el("span", { class: "badge " + state }, text || state);
}

export function pad(n) {
  return String(n).padStart(2, "0");
}

// when writes an instant (ms since the epoch) as local time; 0 is "-".
export function when(ms) {
  if (!ms) return "-";
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

// dur writes a duration in ms briefly: 850ms, 12s, 3m 5s, 2h 1m, 4d 2h.
export function dur(ms) {
  if (ms === null || ms === undefined || ms < 0) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor(s / 60) % 60}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor(s / 3600) % 24}h`;
}

export function ago(ms, now) {
  return ms ? dur((now || Date.now()) - ms) + " ago" : "-";
}

function hexdump(bytes) {
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.slice(i, i + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0"));
    const asc = Array.from(row, (b) =>
      b >= 32 && b < 127 ? String.fromCharCode(b) : ".").join("");
    lines.push(i.toString(16).padStart(8, "0") + "  " +
      hex.join(" ").padEnd(48) + "  " + asc);
  }
  return lines.join("\n");
}

// bytesOf reads a bytes field of the API: NAME (text) or NAME_base64.
export function bytesOf(obj, name) {
  if (typeof obj[name + "_base64"] === "string") {
    const bin = atob(obj[name + "_base64"]);
    return { binary: Uint8Array.from(bin, (c) => c.charCodeAt(0)),
      size: obj[name + "_size"] };
  }
  return { text: obj[name] || "", size: obj[name + "_size"] };
}

// bytesView shows a bytes field as pretty JSON when it parses as JSON,
// as text when it is text, and as a hex dump when it is binary.
export function bytesView(obj, name, label) {
  const b = bytesOf(obj, name);
  let kind, body;
  if (b.binary) {
    kind = `binary, ${b.binary.length} bytes`;
    body = hexdump(b.binary);
  } else {
    body = b.text;
    kind = `text, ${new TextEncoder().encode(b.text).length} bytes`;
    const t = b.text.trim();
    if (t.startsWith("{") || t.startsWith("[")) {
      try {
        body = JSON.stringify(JSON.parse(t), null, 2);
        kind = "JSON";
      } catch (e) { /* text, then */ }
    }
  }
  if (b.size !== undefined) kind += ` (first part of ${b.size} bytes)`;
  const empty = !b.binary && b.text === "";
  return el("div", { class: "bytes-box", "data-field": name },
    el("div", { class: "bytes-head" }, el("strong", {}, label || name),
      el("span", { class: "muted" }, empty ? "empty" : kind)),
    empty ? null : el("pre", { class: "bytes" }, body));
}

// preview is one line of a short bytes field, for lists.
export function preview(obj, name) {
  const b = bytesOf(obj, name);
  if (b.binary) return el("span", { class: "muted" }, "binary");
  const t = b.text.replace(/\s+/g, " ");
  return t.length > 80 ? t.slice(0, 80) + "…" : t;
}

export function fields(pairs) {
  const dl = el("dl", { class: "fields" });
  for (const [k, v] of pairs) {
    dl.append(el("dt", {}, k), el("dd", { "data-field": k }, v));
  }
  return dl;
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

// chart draws the outcomes of each bucket as a bar: succeeded (green)
// below, failed (red) on top; its title says the totals.
export function chart(act, bucketMs, width = 180, height = 34) {
  const n = act.succeeded.length;
  const max = Math.max(1, ...act.succeeded.map((s, i) => s + act.failed[i]));
  const w = width / n;
  const root = svg("svg", { class: "chart", width, height,
    viewBox: `0 0 ${width} ${height}`, role: "img" });
  const ok = act.succeeded.reduce((a, b) => a + b, 0);
  const bad = act.failed.reduce((a, b) => a + b, 0);
  const t = svg("title", {});
  t.textContent = `last ${dur(n * bucketMs)}: ${ok} succeeded, ${bad} ` +
    `failed (bars of ${dur(bucketMs)})`;
  root.append(t);
  root.append(svg("line", { class: "base", x1: 0, x2: width,
    y1: height - 0.5, y2: height - 0.5 }));
  for (let i = 0; i < n; i++) {
    const hs = (act.succeeded[i] / max) * (height - 2);
    const hf = (act.failed[i] / max) * (height - 2);
    if (hs > 0) root.append(svg("rect", { class: "s", x: i * w + 0.5,
      y: height - 1 - hs, width: Math.max(1, w - 1), height: hs }));
    if (hf > 0) root.append(svg("rect", { class: "f", x: i * w + 0.5,
      y: height - 1 - hs - hf, width: Math.max(1, w - 1), height: hf }));
  }
  return root;
}
