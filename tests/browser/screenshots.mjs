// screenshots.mjs - by hand: makes the screenshots of docs/screenshots/
// from a real cairnd with a few queues at work for a minute and a
// workflow run. Not a test (nothing is asserted).
//   CAIRND=... CAIRN=... ORDER_WORKFLOW=... node screenshots.mjs OUTDIR
import { spawn } from "node:child_process";
import { ORDER_WORKFLOW, CAIRN, launch, failedTask, sleep, startServer }
  from "./lib.mjs";

const out = process.argv[2];
const s = await startServer();
const procs = [];
const work = (queue, conc, script, id) => procs.push(spawn(CAIRN, [
  "--server", s.url, "work", queue, "--concurrency", String(conc),
  "--wait", "1s", "--worker-id", id, "--", "sh", "-c", script],
{ stdio: "ignore" }));

// emails: quick, one in five fails its first attempt; thumbnails: slower;
// billing: no worker, a backlog that waits.
work("emails", 4, "sleep 0.05; cat >/dev/null; " +
  "[ $CAIRN_ATTEMPT -gt 1 ] || [ $((CAIRN_TASK_ID % 5)) -ne 0 ] || " +
  "{ echo 'SMTP 451: try later' >&2; exit 1; }; echo sent", "mailer-1");
work("thumbnails", 2, "sleep 0.2; echo ok", "thumbs-a");
procs.push(spawn(ORDER_WORKFLOW, ["--server", s.url, "--workers-only"],
  { stdio: "ignore" }));
for (let i = 0; i < 40; i++) {
  await s.cli("enqueue", "billing", "--payload",
    JSON.stringify({ invoice: 1000 + i, amount_cents: 1999 + i }),
    "--key", `invoice-${1000 + i}`);
}
await failedTask(s, "reports", '{"report": "monthly", "month": "2026-11"}',
  "disk full: /var/reports");
for (let i = 0; i < 3; i++) {
  await s.cli("workflow", "start", "order", "--id", `order-${100 + i}`,
    "--input", `order-${100 + i}`);
}
const t0 = Date.now();
while (Date.now() - t0 < 150000) {
  const n = 5 + Math.floor(Math.random() * 25);
  for (let i = 0; i < n; i++) {
    await s.cli("enqueue", "emails", "--payload",
      JSON.stringify({ to: `user${i}@example.com`, template: "welcome" }));
  }
  if (Math.random() < 0.5) {
    await s.cli("enqueue", "thumbnails", "--payload", `img-${Date.now()}`);
  }
  await sleep(1500);
}
await s.cli("workflow", "await", "order-100", "--wait", "30s");

const browser = await launch();
const page = await (await browser.newContext({
  viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 }))
  .newPage();
const shot = async (hash, sel, name) => {
  await page.goto(s.base + "/ui/" + hash);
  await page.waitForSelector(sel);
  await sleep(300);
  await page.screenshot({ path: `${out}/${name}.png` });
};
await shot("#/queues", "#queues tbody tr", "queues");
const retried = (await s.json("list", "emails", "--state", "succeeded",
  "--limit", "1000")).tasks.find((t) => t.attempt === 2);
await shot(`#/task/${retried.id}`, "#history", "task");
await shot("#/queue/billing?state=pending", "#tasks", "queue");
await shot("#/workflows", "#types", "workflows");
const run = await s.json("workflow", "get", "order-100");
await shot(`#/run/${run.run_id}`, "#log", "run");
await browser.close();
for (const p of procs) p.kill("SIGTERM");
await sleep(500);
await s.stop();
