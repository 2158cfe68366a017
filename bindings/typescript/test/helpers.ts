// Test fixtures: a real cairnd on a free loopback port with a temporary
// SQLite file, and a fake SP REP peer for the transport's bad cases.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, readdirSync, openSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { Client, type ClientOptions } from "../src/index.js";

/** The repository's root (tests run from bindings/typescript/dist/test). */
export const REPO = process.env.CAIRN_REPO ??
  resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** findBuilt returns the program named by the environment variable env,
 * or else the newest build of it (rel, under build/<dir>/) that is not a
 * sanitizer build. */
export function findBuilt(env: string, rel: string): string {
  if (process.env[env]) return process.env[env]!;
  const builds = join(REPO, "build");
  const found = (existsSync(builds) ? readdirSync(builds) : [])
    .map((d) => join(builds, d, rel))
    .filter((p) => existsSync(p) && !/san/.test(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (found.length === 0) throw new Error(`set ${env} to the ${rel} binary (or build the tree)`);
  return found[0];
}

const findCairnd = () => findBuilt("CAIRND", "server/cairnd");

/** freePort returns a loopback port that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class Server {
  readonly dir = mkdtempSync(join(tmpdir(), "cairn-ts-"));
  url = "";
  port = 0;
  private proc: ChildProcess | undefined;

  constructor(private readonly args: string[] = [], private readonly scheme = "tcp") {}

  /** start runs cairnd and waits until it answers a ping. */
  async start(opts: ClientOptions = {}, port?: number): Promise<this> {
    for (let attempt = 0; attempt < 5; attempt++) {
      this.port = port ?? (await freePort());
      this.url = `${this.scheme}://127.0.0.1:${this.port}`;
      const log = openSync(join(this.dir, "cairnd.log"), "a");
      this.proc = spawn(findCairnd(), [
        "--listen", this.url, "--store", `sqlite:${join(this.dir, "cairn.db")}`,
        "--log-level", process.env.CAIRN_TEST_LOG ?? "warn", ...this.args,
      ], { stdio: ["ignore", log, log] });
      if (await this.ready(opts)) return this;
      await this.stop();
    }
    throw new Error(`cairnd did not start; see ${join(this.dir, "cairnd.log")}`);
  }

  private async ready(opts: ClientOptions): Promise<boolean> {
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      if (this.proc?.exitCode !== null) return false;
      const c = new Client(this.url, { ...opts, timeoutMs: 500 });
      try {
        await c.ping();
        return true;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        c.close();
      }
    }
    return false;
  }

  /** stop ends cairnd with SIGTERM (its clean shutdown) and waits. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill(signal);
    const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
    await gone;
    clearTimeout(t);
  }

  async cleanup(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** certs makes a CA, a server certificate for localhost/127.0.0.1 and a
 * client certificate in dir (tests/durability/gen_certs.sh). */
export function certs(dir: string): string {
  const out = join(dir, "certs");
  execFileSync("mkdir", ["-p", out]);
  execFileSync("bash", [join(REPO, "tests/durability/gen_certs.sh"), out]);
  return out;
}

let seq = 0;
/** queue gives each test a queue of its own on the shared server. */
export function queue(name: string): string {
  return `${name.replace(/[^A-Za-z0-9_.:-]/g, "_").slice(0, 80)}.${process.pid}.${++seq}`;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A fake SP peer: a REP by default, which hands every request (its id and
 * payload) to onRequest; the test decides what, if anything, to send. */
export class FakePeer {
  readonly server: net.Server;
  readonly sockets: net.Socket[] = [];
  port = 0;

  constructor(
    onRequest: (sock: net.Socket, id: number, payload: Buffer, conn: number) => void,
    opts: { header?: Buffer | null } = {},
  ) {
    const header = opts.header === undefined ? Buffer.from([0, 0x53, 0x50, 0, 0, 0x31, 0, 0]) : opts.header;
    this.server = net.createServer((sock) => {
      const conn = this.sockets.push(sock) - 1;
      sock.on("error", () => {});
      if (header !== null) sock.write(header);
      let buf = Buffer.alloc(0);
      let shook = false;
      sock.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        if (!shook) {
          if (buf.length < 8) return;
          buf = buf.subarray(8);
          shook = true;
        }
        while (buf.length >= 8) {
          const len = Number(buf.readBigUInt64BE(0));
          if (buf.length < 8 + len) return;
          const msg = buf.subarray(8, 8 + len);
          buf = buf.subarray(8 + len);
          onRequest(sock, msg.readUInt32BE(0), msg.subarray(4), conn);
        }
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return `tcp://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** reply writes one SP reply (id, then payload) on sock. */
export function reply(sock: net.Socket, id: number, payload: Uint8Array): void {
  const f = Buffer.alloc(12 + payload.length);
  f.writeBigUInt64BE(BigInt(4 + payload.length), 0);
  f.writeUInt32BE(id, 8);
  f.set(payload, 12);
  sock.write(f);
}
