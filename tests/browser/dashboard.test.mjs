// dashboard.test.mjs - the dashboard of a real cairnd in headless
// Chromium: the views load without an error in the console, show what
// the CLI says, retry and cancel tasks, cancel, terminate and signal
// runs, show a hostile payload as text, and ask for the token when the
// server has one. Run by tests/browser/run.sh under ctest.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ORDER_WORKFLOW, failedTask, launch, newPage, show, sleep, startServer,
} from "./lib.mjs";

const HOSTILE = "<script>window.__pwned = 1</script>" +
  "<img src=x onerror=\"window.__pwned = 2\">";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

describe("an open dashboard", () => {
  let s, worker;
  const ids = {};

  before(async () => {
    s = await startServer();
    for (let i = 0; i < 3; i++) {
      await s.cli("enqueue", "emails", "--payload", `{"to": "u${i}@x"}`);
    }
    await s.cli("enqueue", "emails", "--payload", "later", "--delay", "1h");
    ids.key = (await s.cli("enqueue", "billing", "--payload", "invoice",
      "--key", "invoice-42")).trim();
    ids.hostile = (await s.cli("enqueue", "billing", "--payload",
      HOSTILE)).trim();
    ids.failed = await failedTask(s, "reports", "r1", "disk full");
    ids.cancel = (await s.cli("enqueue", "reports", "--payload", "r2"))
      .trim();
    // A completed task, for the chart.
    const done = (await s.cli("enqueue", "thumbs", "--payload", "p")).trim();
    const [l] = await s.json("lease", "thumbs");
    writeFileSync(join(s.dir, "bin"), Buffer.from([0, 1, 2, 0xff, 0xfe]));
    await s.cli("complete", done, "--token", l.lease_token,
      "--result-file", join(s.dir, "bin"));
    // A workflow run with a log (activities, a timer), by the C example.
    worker = spawn(ORDER_WORKFLOW, ["--server", s.url, "--workers-only"],
      { stdio: "ignore" });
    await s.cli("workflow", "start", "order", "--id", "order-7",
      "--input", "order-7");
    await s.cli("workflow", "await", "order-7", "--wait", "30s");
    // A run that no worker takes, to cancel, signal and terminate.
    await s.cli("workflow", "start", "idle", "--id", "idle-1",
      "--queue", "nobody");
    await sleep(1200); // past the counts' cache of 1 s
  });

  after(async () => {
    worker.kill("SIGTERM");
    await s.stop();
  });

  test("the queues show the counts that `cairn stats` prints", async () => {
    const page = await newPage(browser);
    await page.goto(s.base + "/ui/");
    await page.waitForSelector("#queues tbody tr");
    const stats = (await s.json("stats")).queues;
    const rows = await page.$$eval("#queues tbody tr", (trs) => trs.map(
      (tr) => ({ queue: tr.dataset.queue, counts: Object.fromEntries(
        [...tr.querySelectorAll("[data-count]")].map(
          (c) => [c.dataset.count, Number(c.textContent)])) })));
    assert.deepEqual(rows.map((r) => r.queue),
      stats.map((q) => q.queue));
    for (const q of stats) {
      const r = rows.find((x) => x.queue === q.queue);
      for (const k of ["pending", "active", "succeeded", "failed",
        "canceled", "due"]) {
        assert.equal(r.counts[k], q[k], `${q.queue} ${k}`);
      }
    }
    // The chart counts the completed attempt of thumbs.
    const thumbs = page.locator('tr[data-queue="thumbs"]');
    assert.equal(await thumbs.locator('[data-rate="throughput"]')
      .textContent(), "1");
    assert.equal(await thumbs.locator("svg.chart rect").count(), 1);
    assert.deepEqual(page.errors, []);
  });

  test("every view loads without a console error", async () => {
    const page = await newPage(browser);
    const views = [
      ["#/queues", "#queues"],
      ["#/queue/emails?state=pending", "#tasks"],
      ["#/queue/reports?state=failed", "#tasks"],
      [`#/task/${ids.failed}`, "#history"],
      ["#/workflows", "#types"],
    ];
    for (const [hash, sel] of views) {
      await show(page, s.base, hash, sel);
    }
    // One match of a search opens it: the view of the run.
    await page.goto(s.base + "/ui/#/search?q=order-7");
    await page.waitForSelector("#log");
    assert.deepEqual(page.errors, []);
  });

  test("a queue's tasks come a page at a time", async () => {
    const page = await newPage(browser);
    const rows = () => page.$$eval("#tasks tbody tr",
      (trs) => trs.map((tr) => Number(tr.dataset.task)));
    const all = (await s.json("list", "emails", "--state", "pending"))
      .tasks.map((t) => t.id);
    assert.equal(all.length, 4);
    await show(page, s.base, "#/queue/emails?state=pending", "#tasks");
    assert.deepEqual(await rows(), all);
    await show(page, s.base,
      `#/queue/emails?state=pending&after=${all[1]}`, "#tasks");
    assert.deepEqual(await rows(), all.slice(2));
    // The merge of every state's page, from the API: two at a time.
    const page1 = await (await fetch(s.base +
      "/api/tasks?queue=reports&state=any&limit=1")).json();
    const page2 = await (await fetch(s.base +
      `/api/tasks?queue=reports&state=any&limit=1&after=${
        page1.next_after}`)).json();
    assert.deepEqual([...page1.tasks, ...page2.tasks].map((t) => t.id),
      [Number(ids.failed), Number(ids.cancel)]);
    assert.equal(page2.next_after, Number(ids.cancel));
    assert.deepEqual(page.errors, []);
  });

  test("a failed task shows its attempt and error, and is retried",
    async () => {
      const page = await newPage(browser);
      await page.goto(s.base + `/ui/#/task/${ids.failed}`);
      await page.waitForSelector("#history");
      const attempt = page.locator('[data-attempt="1"]');
      assert.match(await attempt.locator("h3").textContent(), /w-test/);
      assert.match(await attempt.textContent(), /disk full/);
      await page.click("#retry");
      await page.waitForSelector("#cancel"); // pending now: cancelable
      const t = await s.json("get", ids.failed);
      assert.equal(t.state, "pending");
      assert.deepEqual(page.errors, []);
    });

  test("a pending task is canceled", async () => {
    const page = await newPage(browser);
    await page.goto(s.base + `/ui/#/task/${ids.cancel}`);
    await page.click("#cancel");
    await page.waitForSelector("h1 .badge.canceled");
    assert.equal((await s.json("get", ids.cancel)).state, "canceled");
    assert.deepEqual(page.errors, []);
  });

  test("a hostile payload is shown as text", async () => {
    const page = await newPage(browser);
    await page.goto(s.base + `/ui/#/task/${ids.hostile}`);
    const pre = page.locator('.bytes-box[data-field="payload"] pre');
    assert.equal(await pre.textContent(), HOSTILE);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator("main img").count(), 0);
    await page.goto(s.base + "/ui/#/queue/billing?state=pending");
    await page.waitForSelector("#tasks");
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(page.errors, []);
  });

  test("binary results are shown as hex", async () => {
    const [t] = (await s.json("list", "thumbs", "--state", "succeeded"))
      .tasks;
    const page = await newPage(browser);
    await page.goto(s.base + `/ui/#/task/${t.id}`);
    const box = page.locator('.bytes-box[data-field="result"]');
    await box.waitFor();
    assert.match(await box.textContent(), /binary, 5 bytes/);
    assert.match(await box.locator("pre").textContent(),
      /^00000000  00 01 02 ff fe/);
    assert.deepEqual(page.errors, []);
  });

  test("search finds a task by its idempotency key", async () => {
    const page = await newPage(browser);
    await page.goto(s.base + "/ui/");
    await page.fill("#search-q", "invoice-42");
    await page.press("#search-q", "Enter");
    await page.waitForSelector("#history");
    assert.equal(await page.locator("h1").textContent(),
      `Task ${ids.key} pending`);
    await page.fill("#search-q", "no-such-thing");
    await page.press("#search-q", "Enter");
    await page.waitForSelector("#no-match");
    assert.deepEqual(page.errors, []);
  });

  test("a run's log is a timeline of its steps", async () => {
    const run = await s.json("workflow", "get", "order-7");
    const page = await newPage(browser);
    await page.goto(s.base + "/ui/#/workflows");
    await page.waitForSelector('#types tr[data-type="order"]');
    assert.equal(await page.locator('#types tr[data-type="order"] ' +
      '[data-count="succeeded"]').textContent(), "1");
    await page.click(`#runs tr[data-run="${run.run_id}"] a`);
    await page.waitForSelector("#log");
    const kinds = await page.$$eval("#log > li > .row > strong", (s) =>
      s.map((x) => x.textContent.replace(/^\d+\. /, "")));
    assert.deepEqual(kinds, ["activity", "activity", "timer", "activity"]);
    assert.match(await page.locator('#log li[data-seq="1"]').textContent(),
      /reserve.*completed.*1 attempt/s);
    await page.click('#log li[data-seq="1"] a[href^="#/task/"]');
    await page.waitForSelector("#history");
    assert.deepEqual(page.errors, []);
  });

  test("a run is signaled, canceled and terminated", async () => {
    const page = await newPage(browser);
    const run = await s.json("workflow", "get", "idle-1");
    await page.goto(s.base + `/ui/#/run/${run.run_id}`);
    await page.fill("#signal-name", "approve");
    await page.fill("#signal-payload", "yes");
    await page.click("#signal-send");
    await page.waitForFunction(() =>
      document.querySelector("#signal-name")?.value === "");
    await page.click("#cancel-run");
    await page.waitForFunction(() =>
      /cancel requested/.test(document.querySelector("main").textContent));
    assert.equal((await s.json("workflow", "get", "idle-1"))
      .cancel_requested, true);
    await page.click("#terminate-run");
    await page.waitForSelector("h1 .badge.terminated");
    assert.equal((await s.json("workflow", "get", "idle-1")).state,
      "terminated");
    assert.deepEqual(page.errors, []);
  });

  test("the API refuses bad input and cross-site requests", async () => {
    const get = (p) => fetch(s.base + "/api/" + p);
    let r = await get("tasks?queue=bad%20name");
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error.code, "INVALID_ARGUMENT");
    assert.equal((await get("task?id=999999")).status, 404);
    assert.equal((await get("task?id=x")).status, 400);
    assert.equal((await get("nothing")).status, 404);
    r = await fetch(s.base + `/api/task/cancel?id=${ids.key}`,
      { method: "POST" });
    assert.equal(r.status, 403); // no X-Cairn-Csrf header
    r = await fetch(s.base + `/api/task/cancel?id=${ids.key}`, {
      method: "POST",
      headers: { "X-Cairn-Csrf": "1", Origin: "http://evil.example" } });
    assert.equal(r.status, 403);
    // A DNS name, without a token: a page of another site whose name
    // was rebound to this address. (fetch keeps its own Host header.)
    const status = await new Promise((resolve, reject) => {
      const u = new URL(s.base + "/api/queues");
      http.get({ host: u.hostname, port: u.port, path: u.pathname,
        headers: { Host: "rebound.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on("error", reject);
    });
    assert.equal(status, 403);
    assert.equal((await s.json("get", ids.key)).state, "pending");
  });
});

describe("a dashboard with --token-file", () => {
  const TOKEN = "s3cret-token-for-tests";
  let s;

  before(async () => {
    s = await startServer(["--token-file", "tokens"],
      { tokens: TOKEN + "\n" });
    await s.cli("enqueue", "emails", "--payload", "hi");
  });
  after(async () => { await s.stop(); });

  test("the API asks for the token", async () => {
    assert.equal((await fetch(s.base + "/api/queues")).status, 401);
    const r = await fetch(s.base + "/api/queues",
      { headers: { Authorization: "Bearer " + TOKEN } });
    assert.equal(r.status, 200);
    assert.equal((await fetch(s.base + "/api/queues",
      { headers: { Authorization: "Bearer wrong" } })).status, 401);
  });

  test("the page logs in with a cookie the script cannot read",
    async () => {
      const page = await newPage(browser);
      await page.goto(s.base + "/ui/");
      await page.waitForSelector("#login");
      assert.equal(await page.locator("#queues").count(), 0);
      await page.fill("#token", "wrong");
      await page.click("#login button");
      await page.waitForFunction(() =>
        document.querySelector("#login-error").textContent !== "");
      await page.fill("#token", TOKEN);
      await page.click("#login button");
      await page.waitForSelector('#queues tr[data-queue="emails"]');
      const [c] = await page.context().cookies();
      assert.equal(c.name, "cairn_session");
      assert.equal(c.httpOnly, true);
      assert.equal(c.sameSite, "Strict");
      assert.notEqual(c.value, TOKEN);
      assert.equal(await page.evaluate(() => document.cookie), "");
      // The session works for actions from the page's origin only.
      const [t] = (await s.json("list", "emails")).tasks;
      const status = await page.evaluate(async (id) => (await fetch(
        `/api/task/cancel?id=${id}`, { method: "POST" })).status, t.id);
      assert.equal(status, 403);
      await page.click("#logout");
      await page.waitForSelector("#login");
      assert.equal(await page.evaluate(async () =>
        (await fetch("/api/queues")).status), 401);
      // The refusals above are the only errors in the console.
      assert.ok(page.errors.every((e) => /status of 40[13]/.test(e)),
        page.errors);
    });
});

describe("a read-only dashboard", () => {
  let s, id;

  before(async () => {
    s = await startServer(["--ui", "read-only"]);
    id = await failedTask(s, "jobs", "j", "oops");
  });
  after(async () => { await s.stop(); });

  test("shows no actions and refuses them", async () => {
    const page = await newPage(browser);
    await page.goto(s.base + `/ui/#/task/${id}`);
    await page.waitForSelector("#history");
    assert.equal(await page.locator("#retry").count(), 0);
    assert.equal(await page.locator("#who .readonly").count(), 1);
    const r = await fetch(s.base + `/api/task/retry?id=${id}`,
      { method: "POST", headers: { "X-Cairn-Csrf": "1" } });
    assert.equal(r.status, 403);
    assert.equal((await s.json("get", id)).state, "failed");
    assert.deepEqual(page.errors, []);
  });
});
