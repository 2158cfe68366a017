// measure.mjs - by hand, never in CI: how long the dashboard's views take
// to show in Chromium against a running cairnd with a large store
// (docs/DASHBOARD.md, "A million tasks").
//   node measure.mjs http://127.0.0.1:7421 QUEUE TASK_ID
import { launch, newPage } from "./lib.mjs";

const [base, queue, id] = process.argv.slice(2);
const views = [
  ["queues", "#/queues", "#queues tbody tr"],
  ["a queue, pending", `#/queue/${queue}?state=pending`, "#tasks"],
  ["a queue, any state", `#/queue/${queue}?state=any`, "#tasks"],
  ["a queue, failed", `#/queue/${queue}?state=failed`, "main h1"],
  ["a task", `#/task/${id}`, "#history"],
  ["search by id", `#/search?q=${id}`, "#history"],
  ["workflows", "#/workflows", "main h1"],
];
const browser = await launch();
const page = await newPage(browser);
for (const [name, hash, sel] of views) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    await page.goto("about:blank");
    const t0 = Date.now();
    await page.goto(base + "/ui/" + hash);
    await page.waitForSelector(sel);
    times.push(Date.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(20)} median ${times[2]} ms, max ${times[4]} ms`);
}
// The next page, from the first: one click.
await page.goto(base + "/ui/" + `#/queue/${queue}?state=pending`);
await page.waitForSelector("#tasks");
const t0 = Date.now();
await page.click('[data-page="next"]');
await page.waitForFunction(() => location.hash.includes("after="));
await page.waitForSelector("#tasks");
console.log(`next page (click)    ${Date.now() - t0} ms`);
console.log(`console errors: ${page.errors.length}`);
await browser.close();
