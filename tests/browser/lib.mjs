// lib.mjs - what the browser tests share: a real cairnd on free loopback
// ports in a directory of its own, the real cairn CLI, and Debian's
// Chromium driven by playwright-core.
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

const run = promisify(execFile);
export const CAIRND = process.env.CAIRND;
export const CAIRN = process.env.CAIRN;
export const ORDER_WORKFLOW = process.env.ORDER_WORKFLOW;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// startServer starts cairnd with extra flags and waits until /readyz
// answers; stop() ends it with SIGTERM and checks that it exited 0 (a
// sanitizer's report makes it exit otherwise).
export async function startServer(flags = [], files = {}) {
  const dir = mkdtempSync(join(tmpdir(), "cairn-browser-"));
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
  }
  const [rpc, http] = [await freePort(), await freePort()];
  const url = `tcp://127.0.0.1:${rpc}`;
  const base = `http://127.0.0.1:${http}`;
  let log = "";
  const proc = spawn(CAIRND, ["--store", `sqlite:${join(dir, "t.db")}`,
    "--listen", url, "--http", `127.0.0.1:${http}`, ...flags],
  { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  proc.stderr.on("data", (d) => { log += d; });
  const exited = new Promise((r) => proc.on("exit", (code, sig) =>
    r({ code, sig })));
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(base + "/readyz")).ok) break;
    } catch (e) { /* not yet */ }
    if (i > 200 || proc.exitCode !== null) {
      throw new Error("cairnd did not start:\n" + log);
    }
    await sleep(50);
  }
  const cli = async (...args) => {
    const env = { ...process.env };
    if (files.tokens) env.CAIRN_TOKEN = files.tokens.split("\n")[0];
    const { stdout } = await run(CAIRN, ["--server", url, ...args], { env });
    return stdout;
  };
  return {
    dir, url, base, cli,
    log: () => log,
    json: async (...args) => JSON.parse(await cli(...args, "--json")),
    async stop() {
      proc.kill("SIGTERM");
      const r = await exited;
      rmSync(dir, { recursive: true, force: true });
      if (r.code !== 0) {
        throw new Error(`cairnd exited ${r.code} ${r.sig}:\n${log}`);
      }
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic",
      "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

// newPage opens a page that records console errors and uncaught
// exceptions (a refused Content-Security-Policy is one), and accepts the
// confirmation dialogs of actions.
export async function newPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") page.errors.push(m.text());
  });
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("dialog", (d) => d.accept());
  return page;
}

// failedTask makes a task of queue that failed its only attempt.
export async function failedTask(s, queue, payload, error) {
  const id = (await s.cli("enqueue", queue, "--payload", payload,
    "--max-attempts", "1")).trim();
  const leased = await s.json("lease", queue, "--worker", "w-test");
  const t = leased.find((l) => String(l.task.id) === id);
  await s.cli("fail", id, "--token", t.lease_token, "--error", error);
  return id;
}

// show opens the view of hash and waits until it is drawn (a change of
// the hash alone does not reload the page: the old view is there until
// the new one replaces it) and sel is in it.
export async function show(page, base, hash, sel) {
  await page.goto(base + "/ui/" + hash);
  await page.waitForFunction((h) =>
    document.querySelector("main").dataset.route === h, hash);
  if (sel) await page.waitForSelector(sel);
}
