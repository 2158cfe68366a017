// The SP transport against fake peers: many requests in flight on one
// connection, replies out of order, resends after a broken connection, and
// bad input (a wrong URL, a server that is down or silent or not SP, a
// reply that does not decode) that must end in a clear error within the
// call's time limit, never a hang.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";

import {
  Client,
  Code,
  DeadlineExceededError,
  EnqueueResponseSchema,
  InternalError,
  InvalidArgumentError,
  PingResponseSchema,
  RequestSchema,
  ResponseSchema,
  UnavailableError,
  UnauthenticatedError,
} from "../src/index.js";
import { FakePeer, freePort, reply } from "./helpers.js";

const ok = (body: Uint8Array = new Uint8Array()) => toBinary(ResponseSchema, create(ResponseSchema, { body }));
const pong = (version: string) => ok(toBinary(PingResponseSchema, create(PingResponseSchema, { version })));

/** within checks that p rejects with cls in less than ms. */
async function within(ms: number, p: Promise<unknown>, cls: new (...a: never[]) => Error, re?: RegExp) {
  const t0 = Date.now();
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof cls, `${e.name}: ${e.message}`);
    if (re) assert.match(e.message, re);
    return true;
  });
  assert.ok(Date.now() - t0 < ms, `took ${Date.now() - t0} ms`);
}

test("wrong URLs are refused at once", () => {
  for (const url of ["http://127.0.0.1:7420", "127.0.0.1:7420", "tcp://127.0.0.1", "tcp://:7420",
    "tcp://127.0.0.1:99999", "tcp://host:7420/path", "ipc://"]) {
    assert.throws(() => new Client(url), InvalidArgumentError, url);
  }
  assert.throws(() => new Client("tcp://127.0.0.1:7420", { tls: { caFile: "/nonexistent" } }), /tls\+tcp/);
  assert.throws(() => new Client("tls+tcp://127.0.0.1:7420", { tls: { caFile: "/nonexistent/ca.pem" } }),
    /cannot read the TLS CA file/);
});

test("a server that is down: UNAVAILABLE within the time limit, saying why", async () => {
  const c = new Client(`tcp://127.0.0.1:${await freePort()}`, { timeoutMs: 700 });
  await within(1500, c.ping(), UnavailableError, /ECONNREFUSED/);
  c.close();
});

test("a name that does not resolve fails at once", async () => {
  const c = new Client("tcp://no-such-host.invalid:7420", { timeoutMs: 5000 });
  await within(4000, c.ping(), UnavailableError, /no-such-host/);
  c.close();
});

test("a peer that accepts but never speaks SP: an error, not a hang", async () => {
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const port = (silent.address() as net.AddressInfo).port;
  const c = new Client(`tcp://127.0.0.1:${port}`, { timeoutMs: 600, transport: { handshakeTimeoutMs: 200 } });
  await within(1500, c.ping(), UnavailableError, /no SP handshake/);
  c.close();
  silent.close();
});

test("a peer that is not an SP REP is refused with its reason", async () => {
  const http = new FakePeer(() => {}, { header: Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n") });
  const c = new Client(await http.listen(), { timeoutMs: 3000 });
  await within(2000, c.ping(), UnavailableError, /does not speak nng's SP protocol/);
  c.close();
  await http.close();
  const pub = new FakePeer(() => {}, { header: Buffer.from([0, 0x53, 0x50, 0, 0, 0x20, 0, 0]) });
  const c2 = new Client(await pub.listen(), { timeoutMs: 3000 });
  await within(2000, c2.ping(), UnavailableError, /protocol 32, not a REP/);
  c2.close();
  await pub.close();
});

test("a reply that does not decode: INTERNAL, at once", async () => {
  const peer = new FakePeer((sock, id) => reply(sock, id, Buffer.from([0xff, 0xff, 0xff])));
  const c = new Client(await peer.listen(), { timeoutMs: 3000 });
  await within(1000, c.ping(), InternalError, /malformed reply to Ping/);
  c.close();
  await peer.close();
});

test("a body that does not decode: INTERNAL", async () => {
  const peer = new FakePeer((sock, id) => reply(sock, id, ok(Buffer.from([0x0a, 0x05, 0x01]))));
  const c = new Client(await peer.listen(), { timeoutMs: 3000 });
  await within(1000, c.ping(), InternalError, /malformed Ping reply/);
  c.close();
  await peer.close();
});

test("a reply to no request of ours is ignored; the call times out", async () => {
  const peer = new FakePeer((sock, id) => reply(sock, (id ^ 1) >>> 0, pong("stray")));
  const c = new Client(await peer.listen(), { timeoutMs: 400 });
  await within(1000, c.ping(), DeadlineExceededError, /no reply .* within 400 ms/);
  c.close();
  await peer.close();
});

test("status codes become typed errors with the server's words", async () => {
  const peer = new FakePeer((sock, id) => reply(sock, id, toBinary(ResponseSchema,
    create(ResponseSchema, { code: Code.UNAUTHENTICATED, message: "no valid token" }))));
  const c = new Client(await peer.listen());
  await assert.rejects(c.ping(), (e: Error) =>
    e instanceof UnauthenticatedError && e.code === Code.UNAUTHENTICATED && e.message === "no valid token"
    && e.codeName === "UNAUTHENTICATED");
  c.close();
  await peer.close();
});

test("many requests in flight on one connection, answered out of order", async () => {
  const held: { sock: net.Socket; id: number; version: string }[] = [];
  const ids = new Set<number>();
  const peer = new FakePeer((sock, id, payload) => {
    assert.ok(id & 0x80000000, "request ids have the high bit set");
    ids.add(id);
    const env = fromBinary(RequestSchema, payload);
    held.push({ sock, id, version: env.requestId === "" ? `ping-${held.length}` : "?" });
    if (held.length === 50) {
      for (const h of held.reverse()) reply(h.sock, h.id, pong(`for ${h.id}`));
    }
  });
  const c = new Client(await peer.listen());
  const calls = Array.from({ length: 50 }, () => c.ping());
  const got = await Promise.all(calls);
  assert.equal(peer.sockets.length, 1, "one connection");
  assert.equal(ids.size, 50, "one id per request");
  assert.equal(new Set(got.map((p) => p.version)).size, 50, "each call got its own reply");
  c.close();
  await peer.close();
});

test("a broken connection: the request is sent again, same id and bytes, on the next", async () => {
  const seen: { conn: number; id: number; payload: Buffer }[] = [];
  const peer = new FakePeer((sock, id, payload, conn) => {
    seen.push({ conn, id, payload: Buffer.from(payload) });
    if (conn === 0) sock.destroy(); // the first connection dies
    else reply(sock, id, ok(toBinary(EnqueueResponseSchema, create(EnqueueResponseSchema, { results: [{ id: 7n, created: true }] }))));
  });
  const c = new Client(await peer.listen(), { timeoutMs: 3000 });
  assert.equal((await c.enqueue("q", "x")).id, 7n);
  assert.equal(seen.length, 2);
  assert.equal(seen[1].conn, 1);
  assert.equal(seen[0].id, seen[1].id);
  assert.deepEqual(seen[0].payload, seen[1].payload);
  const env = fromBinary(RequestSchema, seen[0].payload);
  assert.match(env.requestId, /^[0-9a-f]{32}$/, "a mutating call carries a request id");
  c.close();
  await peer.close();
});

test("close fails waiting calls at once", async () => {
  const peer = new FakePeer(() => {});
  const c = new Client(await peer.listen(), { timeoutMs: 10_000 });
  const p = c.ping();
  setTimeout(() => c.close(), 50);
  await assert.rejects(p, (e: { code: Code }) => e.code === Code.CANCELLED);
  await assert.rejects(c.ping(), /closed/);
  await peer.close();
});
