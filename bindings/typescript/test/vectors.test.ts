// The shared test vectors of proto/testdata/: each envelope and its body
// decode with the generated code to what the vector's JSON form says, and
// encode back to the same bytes. The C, Go and protoc checks read the same
// files, so the implementations cannot drift apart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { create, equals, fromBinary, fromJson, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, JsonValue } from "@bufbuild/protobuf";

import { Code, Queue, RequestSchema, ResponseSchema } from "../src/index.js";
import { REPO } from "./helpers.js";

const DIR = join(REPO, "proto", "testdata");

interface Vector {
  name: string;
  method: string;
  kind: "request" | "reply";
  message: { [k: string]: JsonValue };
}

const methods = new Map(Object.values(Queue.method).map((m) => [m.name, m]));
const names = readdirSync(DIR).filter((f) => f.endsWith(".bin")).map((f) => f.slice(0, -4)).sort();

test("every rpc of service Queue has a request and a reply vector", () => {
  for (const name of methods.keys()) {
    assert.ok(names.includes(`${name}.request`), `no vector ${name}.request: run proto/testdata/generate.py`);
    assert.ok(names.includes(`${name}.reply`), `no vector ${name}.reply`);
  }
  assert.ok(names.length >= 2 * methods.size);
});

/** roundTrip decodes body as schema, checks it against json and that it
 * encodes to the same bytes. */
function roundTrip(name: string, schema: DescMessage, body: Uint8Array, json: JsonValue | undefined) {
  const m = fromBinary(schema, body);
  const want = fromJson(schema, json ?? {});
  assert.ok(equals(schema, m, want), `${name}: the body decodes unlike its JSON form`);
  assert.deepEqual(Buffer.from(toBinary(schema, m)), Buffer.from(body), `${name}: body re-encodes differently`);
  // What the JSON form says encodes to these bytes too (JSON cannot hold
  // the fields a client does not know).
  if (!name.endsWith("unknown-field")) {
    assert.deepEqual(Buffer.from(toBinary(schema, want)), Buffer.from(body), `${name}: JSON form encodes differently`);
  }
}

for (const name of names) {
  test(`vector ${name}`, () => {
    const bin = readFileSync(join(DIR, `${name}.bin`));
    const v = JSON.parse(readFileSync(join(DIR, `${name}.json`), "utf8")) as Vector;
    assert.equal(v.name, name);
    const m = methods.get(v.method);
    assert.ok(m, `service Queue has no rpc ${v.method}`);
    const j = v.message;
    if (v.kind === "request") {
      const env = fromBinary(RequestSchema, bin);
      assert.equal(env.method, v.method);
      assert.equal(env.token, j.token ?? "");
      assert.equal(env.deadlineMs, BigInt((j.deadlineMs as string) ?? 0));
      assert.equal(env.requestId, j.requestId ?? "");
      roundTrip(name, m.input, env.body, j.body);
      // Built from its parts, as the client builds a call.
      const built = create(RequestSchema, {
        method: v.method, body: toBinary(m.input, fromJson(m.input, j.body ?? {})),
        token: env.token, deadlineMs: env.deadlineMs, requestId: env.requestId,
      });
      assert.deepEqual(Buffer.from(toBinary(RequestSchema, built)), bin);
    } else {
      const env = fromBinary(ResponseSchema, bin);
      const code = j.code === undefined ? Code.OK
        : typeof j.code === "number" ? j.code : Code[j.code as keyof typeof Code];
      assert.equal(env.code, code);
      assert.equal(env.message, j.message ?? "");
      if (env.code === Code.OK) roundTrip(name, m.output, env.body, j.body);
      else assert.equal(env.body.length, 0);
      // Unknown fields (a newer server's) are kept and written back.
      assert.deepEqual(Buffer.from(toBinary(ResponseSchema, env)), bin, `${name}: envelope re-encodes differently`);
    }
  });
}
