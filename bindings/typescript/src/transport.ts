// An SP REQ socket (nng's req0) over one TCP, TLS or IPC connection, in
// plain Node.js. proto/README.md ("SP framing") describes the bytes:
//
//   - on connect both sides send an 8-byte header, 00 'S' 'P' 00, the
//     protocol (0x0030 REQ, 0x0031 REP, big-endian) and two zero bytes, and
//     check the peer's: a REQ talks only to a REP;
//   - then every message is a 64-bit big-endian length and that many bytes
//     (over IPC a 0x01 byte comes first);
//   - a request message starts with a 32-bit big-endian request id whose
//     high bit is set; the reply starts with the same id, so many requests
//     can be in flight on one connection and their replies come back in
//     any order.
//
// Like nng's REQ socket, a request that was sent on a connection that broke
// is sent again, with the same id and the same bytes, once a new connection
// is up, until the request's own deadline. Unlike nng, nothing is resent on
// a timer: TCP does not lose messages, and cairnd answers every request it
// reads. Cairn makes such resends safe (proto/README.md, "Resends").
import * as net from "node:net";
import * as tls from "node:tls";
import { randomInt } from "node:crypto";

import type { Address } from "./url.js";
import {
  CairnError,
  DeadlineExceededError,
  ResourceExhaustedError,
  UnavailableError,
} from "./errors.js";
import { Code } from "./gen/cairn_pb.js";

const SP_REQ = 0x30;
const SP_REP = 0x31;

export interface TransportOptions {
  /** TLS options for tls+tcp:// (ca, cert, key, servername...). */
  tls?: tls.ConnectionOptions;
  /** How long a connection may take to connect and shake hands. */
  handshakeTimeoutMs?: number;
  /** Pauses between connection attempts, doubling from min to max. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Replies larger than this close the connection (a broken peer). */
  maxReplyBytes?: number;
}

interface Pending {
  id: number;
  frame: Buffer; // length prefix, request id, payload: ready to write
  sent: boolean; // written on the current connection
  resolve: (reply: Uint8Array) => void;
  reject: (e: CairnError) => void;
  timer: NodeJS.Timeout;
}

// Errors that a new attempt may not meet: the network, not the peer.
const TRANSIENT = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH",
  "ENETUNREACH", "ENETDOWN", "ECONNABORTED", "EAI_AGAIN", "ENOENT",
  "EADDRNOTAVAIL",
]);

export class SpReqTransport {
  private readonly addr: Address;
  private readonly opts: Required<Omit<TransportOptions, "tls">> & { tls?: tls.ConnectionOptions };
  private readonly pending = new Map<number, Pending>();
  private sock: net.Socket | undefined;
  private open = false; // the SP handshake is done on sock
  private rx: Buffer[] = [];
  private rxLen = 0;
  private nextId = randomInt(0x7fffffff);
  private backoff: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastError = "";
  private closed = false;

  constructor(addr: Address, opts: TransportOptions = {}) {
    this.addr = addr;
    this.opts = {
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 5000,
      reconnectMinMs: opts.reconnectMinMs ?? 100,
      reconnectMaxMs: opts.reconnectMaxMs ?? 2000,
      maxReplyBytes: opts.maxReplyBytes ?? 64 << 20,
      tls: opts.tls,
    };
    this.backoff = this.opts.reconnectMinMs;
  }

  /** The number of requests waiting for their reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * request sends payload as one request and resolves with the reply's
   * payload; it rejects with DeadlineExceededError when no reply came
   * within timeoutMs, or UnavailableError when no connection could be made
   * in that time (the message says why).
   */
  request(payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.closed) {
      return Promise.reject(new CairnError(Code.CANCELLED, `client for ${this.addr.url} is closed`));
    }
    const id = this.allocId();
    const prefix = this.addr.scheme === "ipc" ? 9 : 8;
    const frame = Buffer.allocUnsafe(prefix + 4 + payload.length);
    if (prefix === 9) frame[0] = 1;
    frame.writeBigUInt64BE(BigInt(4 + payload.length), prefix - 8);
    frame.writeUInt32BE(id, prefix);
    frame.set(payload, prefix + 4);
    return new Promise((resolve, reject) => {
      const p: Pending = {
        id, frame, sent: false, resolve, reject,
        timer: setTimeout(() => this.expire(p, timeoutMs), timeoutMs),
      };
      this.pending.set(id, p);
      this.refresh();
      if (this.open) {
        this.send(p);
      } else {
        this.connect();
      }
    });
  }

  /** close fails every waiting request and closes the connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.failAll(new CairnError(Code.CANCELLED, `client for ${this.addr.url} was closed`));
    this.sock?.destroy();
    this.sock = undefined;
  }

  private allocId(): number {
    for (;;) {
      this.nextId = (this.nextId + 1) & 0x7fffffff;
      const id = (0x80000000 | this.nextId) >>> 0;
      if (!this.pending.has(id)) return id;
    }
  }

  private send(p: Pending): void {
    p.sent = true;
    this.sock!.write(p.frame);
  }

  private expire(p: Pending, timeoutMs: number): void {
    if (this.pending.get(p.id) !== p) return;
    this.pending.delete(p.id);
    this.refresh();
    if (p.sent) {
      p.reject(new DeadlineExceededError(Code.DEADLINE_EXCEEDED,
        `no reply from ${this.addr.url} within ${timeoutMs} ms`));
    } else {
      p.reject(new UnavailableError(Code.UNAVAILABLE, `cannot reach ${this.addr.url} within ${timeoutMs} ms` +
        (this.lastError ? `: ${this.lastError}` : "")));
    }
  }

  private failAll(e: CairnError): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
  }

  // An idle connection does not keep the process alive; a waiting
  // request does.
  private refresh(): void {
    if (this.sock === undefined) return;
    if (this.pending.size > 0) this.sock.ref();
    else this.sock.unref();
  }

  private connect(): void {
    if (this.sock !== undefined || this.retryTimer !== undefined || this.closed) return;
    const a = this.addr;
    let sock: net.Socket;
    if (a.scheme === "ipc") {
      sock = net.connect({ path: a.path });
    } else if (a.scheme === "tcp") {
      sock = net.connect({ host: a.host, port: a.port });
    } else {
      sock = tls.connect({
        host: a.host, port: a.port,
        // SNI takes names only; an address is checked against the
        // certificate's IP entries without it.
        servername: net.isIP(a.host) ? undefined : a.host,
        ...this.opts.tls,
      });
    }
    this.sock = sock;
    this.open = false;
    this.rx = [];
    this.rxLen = 0;
    sock.setNoDelay(true);
    // The transport's own timers never keep the process alive: the
    // requests' timers do, while there are any.
    const shake = setTimeout(() => {
      this.lastError = `no SP handshake from ${a.url} within ${this.opts.handshakeTimeoutMs} ms`;
      sock.destroy();
    }, this.opts.handshakeTimeoutMs).unref();
    const ready = a.scheme === "tls+tcp" ? "secureConnect" : "connect";
    sock.once(ready, () => {
      sock.write(Buffer.from([0, 0x53, 0x50, 0, 0, SP_REQ, 0, 0]));
    });
    sock.on("data", (d: Buffer) => {
      try {
        this.onData(d, shake);
      } catch (e) {
        this.lastError = (e as Error).message;
        // A peer that is not a REP would be the same at the next try.
        if (!this.open) {
          this.failAll(new UnavailableError(Code.UNAVAILABLE, `cannot connect to ${a.url}: ${this.lastError}`));
        }
        sock.destroy();
      }
    });
    let tcpUp = false;
    sock.once("connect", () => (tcpUp = true));
    sock.on("error", (e: NodeJS.ErrnoException) => {
      const code = e.code ?? "";
      this.lastError = `${e.message}`;
      // A server that drops a connection in the middle of the TLS
      // handshake has refused us (mbed TLS, nng's, sends no alert).
      const tlsRefused = a.scheme === "tls+tcp" && tcpUp && !this.open;
      if (tlsRefused && /before secure TLS connection/.test(e.message)) {
        this.lastError += " (the server refused the TLS handshake: does it require a client certificate?)";
      }
      // Before the handshake, an error of the peer itself (a certificate
      // it should not have, a name it cannot resolve) would only come
      // again: the waiting requests fail now, with its words.
      if (!this.open && (!TRANSIENT.has(code) || tlsRefused)) {
        this.failAll(new UnavailableError(Code.UNAVAILABLE, `cannot connect to ${a.url}: ${this.lastError}`));
      }
    });
    sock.on("close", () => {
      clearTimeout(shake);
      if (this.sock !== sock) return;
      const wasOpen = this.open;
      this.sock = undefined;
      this.open = false;
      if (wasOpen && this.lastError === "") this.lastError = `${a.url} closed the connection`;
      for (const p of this.pending.values()) p.sent = false;
      if (this.pending.size > 0 && !this.closed) {
        // Redial at once after a connection that worked; wait and back
        // off after one that did not.
        const wait = wasOpen ? 0 : this.backoff;
        if (!wasOpen) this.backoff = Math.min(this.backoff * 2, this.opts.reconnectMaxMs);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          if (this.pending.size > 0) this.connect();
        }, wait).unref();
      }
    });
    this.refresh();
  }

  private onData(d: Buffer, shake: NodeJS.Timeout): void {
    this.rx.push(d);
    this.rxLen += d.length;
    if (!this.open) {
      if (this.rxLen < 8) return;
      const h = this.take(8);
      if (h[0] !== 0 || h[1] !== 0x53 || h[2] !== 0x50 || h[3] !== 0 || h[6] !== 0 || h[7] !== 0) {
        throw new Error(`${this.addr.url} does not speak nng's SP protocol (it sent ${h.toString("hex")})`);
      }
      const proto = h.readUInt16BE(4);
      if (proto !== SP_REP) {
        throw new Error(`${this.addr.url} is an SP peer of protocol ${proto}, not a REP (49)`);
      }
      clearTimeout(shake);
      this.open = true;
      this.lastError = "";
      this.backoff = this.opts.reconnectMinMs;
      for (const p of this.pending.values()) if (!p.sent) this.send(p);
    }
    const prefix = this.addr.scheme === "ipc" ? 9 : 8;
    while (this.rxLen >= prefix) {
      const head = this.peek(prefix);
      const len = head.readBigUInt64BE(prefix - 8);
      if (len > BigInt(this.opts.maxReplyBytes)) {
        const e = new ResourceExhaustedError(Code.RESOURCE_EXHAUSTED,
          `a reply of ${len} bytes from ${this.addr.url} is over the limit of ${this.opts.maxReplyBytes}`);
        this.failAll(e);
        throw e;
      }
      if (this.rxLen < prefix + Number(len)) return;
      this.take(prefix);
      const msg = this.take(Number(len));
      if (msg.length < 4 || (msg[0] & 0x80) === 0) {
        throw new Error(`${this.addr.url} sent a reply without a request id`);
      }
      const p = this.pending.get(msg.readUInt32BE(0));
      if (p === undefined) continue; // the reply to a request that timed out
      this.pending.delete(p.id);
      clearTimeout(p.timer);
      this.refresh();
      p.resolve(msg.subarray(4));
    }
  }

  private peek(n: number): Buffer {
    if (this.rx[0].length < n) this.rx = [Buffer.concat(this.rx)];
    return this.rx[0];
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    const out = first.subarray(0, n);
    if (first.length === n) this.rx.shift();
    else this.rx[0] = first.subarray(n);
    this.rxLen -= n;
    return out;
  }
}
