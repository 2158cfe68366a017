#!/usr/bin/env python3
"""Writes Cairn's shared test vectors into proto/testdata/.

For every rpc of `service Queue` in cairn.proto: the request envelope (a
cairn.v1.Request whose body is a <Method>Request with every field set) and
the reply envelope (a cairn.v1.Response whose body is a <Method>Response),
and a few envelopes that clients must also get right (an error reply, an
unknown status code, a field the client does not know, a minimal request).
Each vector NAME is three files:

  NAME.bin   the bytes on the wire (inside the SP frame)
  NAME.txt   what `protoc --decode=cairn.v1.debug.<Method>Call` (or Reply)
             prints for them, with cairn_debug.proto
  NAME.json  the same in proto3's JSON mapping, for clients to compare
             what they decoded with what they should have decoded

NAME is <Method>.request or <Method>.reply, with -<variant> for the extra
ones. The values are made from the message descriptors alone (each field
gets the next value of a fixed sequence for its type), so a new rpc gets
its vectors by running this again, and nothing here names a field.

usage: generate.py [--check] [--protoc PROTOC]
  --check  write nothing; exit 1 if proto/testdata differs from what this
           would write (CI runs it so that the vectors follow the proto)
Needs protoc and Python's protobuf package (Debian: protobuf-compiler,
python3-protobuf).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, json_format
from google.protobuf.descriptor import FieldDescriptor as FD

try:  # protobuf >= 4.22
    from google.protobuf.message_factory import GetMessageClass
except ImportError:  # Debian 12's 3.21 / 4.21
    from google.protobuf.message_factory import MessageFactory

    _factory = MessageFactory()

    def GetMessageClass(desc):  # noqa: N802 (the newer API's name)
        return _factory.GetPrototype(desc)


HERE = Path(__file__).resolve().parent
PROTO = HERE.parent
SERVICE = "cairn.v1.Queue"
VIEWS = "cairn.v1.debug"
MAX_DEPTH = 4  # Task inside LeasedTask inside a response is depth 3

# Values per scalar type, taken in turn: ordinary ones and the edges that
# break careless encoders (sign extension, 2^53 + 1 for JavaScript, UTF-8,
# bytes that are not text).
SEQUENCES = {
    FD.TYPE_INT32: [7, -5, 2147483647, -2147483648, 150],
    FD.TYPE_SINT32: [7, -5, 2147483647, -2147483648],
    FD.TYPE_SFIXED32: [7, -5, 2147483647, -2147483648],
    FD.TYPE_INT64: [1767225600123, -1, 9223372036854775807,
                    -9223372036854775808, 30000],
    FD.TYPE_SINT64: [1767225600123, -1, 9223372036854775807],
    FD.TYPE_SFIXED64: [1767225600123, -1, 9223372036854775807],
    FD.TYPE_UINT32: [25, 4294967295, 1, 128],
    FD.TYPE_FIXED32: [25, 4294967295, 1],
    FD.TYPE_UINT64: [42, 18446744073709551615, 9007199254740993, 1],
    FD.TYPE_FIXED64: [42, 18446744073709551615, 9007199254740993],
    FD.TYPE_DOUBLE: [2.5, -0.125, 1e+300, 3.141592653589793],
    FD.TYPE_FLOAT: [2.5, -0.125, 1024.0],
}


class Filler:
    """Gives every field of a message a value, deterministically."""

    def __init__(self) -> None:
        self.turn: dict[object, int] = {}

    def next(self, key: object, n: int) -> int:
        i = self.turn.get(key, 0)
        self.turn[key] = i + 1
        return i % n

    def scalar(self, f):
        t = f.type
        if t in SEQUENCES:
            seq = SEQUENCES[t]
            return seq[self.next(t, len(seq))]
        if t == FD.TYPE_BOOL:
            return True
        if t == FD.TYPE_STRING:
            i = self.next(t, 3)
            return f"{f.name}-{i + 1}" + (" \u00e9\u2713" if i == 2 else "")
        if t == FD.TYPE_BYTES:
            i = self.next(t, 2)
            return (b"\x00\x01\x7f\x80\xff " if i == 1 else b"") + \
                f.name.encode()
        if t == FD.TYPE_ENUM:
            values = [v.number for v in f.enum_type.values if v.number != 0]
            return values[self.next(f.enum_type.full_name, len(values))]
        raise SystemExit(f"generate.py: no values for field {f.full_name}")

    def fill(self, msg, depth: int = 0) -> None:
        desc = msg.DESCRIPTOR
        done_oneofs = set()
        for f in desc.fields:
            # One member per oneof (the first): setting another would
            # clear it.
            if f.containing_oneof is not None:
                if f.containing_oneof.name in done_oneofs:
                    continue
                done_oneofs.add(f.containing_oneof.name)
            if f.type == FD.TYPE_MESSAGE:
                if depth >= MAX_DEPTH:
                    continue
                if f.message_type.GetOptions().map_entry:
                    # One entry: the order of several is not fixed on the
                    # wire, and vectors must be byte for byte.
                    key_f = f.message_type.fields_by_name["key"]
                    val_f = f.message_type.fields_by_name["value"]
                    m = getattr(msg, f.name)
                    if val_f.type == FD.TYPE_MESSAGE:
                        self.fill(m[self.scalar(key_f)], depth + 1)
                    else:
                        m[self.scalar(key_f)] = self.scalar(val_f)
                elif f.label == FD.LABEL_REPEATED:
                    for _ in range(2):
                        self.fill(getattr(msg, f.name).add(), depth + 1)
                else:
                    sub = getattr(msg, f.name)
                    sub.SetInParent()
                    self.fill(sub, depth + 1)
            elif f.label == FD.LABEL_REPEATED:
                getattr(msg, f.name).extend(
                    [self.scalar(f), self.scalar(f)])
            else:
                setattr(msg, f.name, self.scalar(f))


def load_pool(protoc: str) -> descriptor_pool.DescriptorPool:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "set.pb")
        subprocess.run([protoc, f"-I{PROTO}", "--include_imports",
                        f"--descriptor_set_out={out}",
                        str(PROTO / "cairn.proto"),
                        str(PROTO / "cairn_debug.proto")], check=True)
        fds = descriptor_pb2.FileDescriptorSet()
        fds.ParseFromString(Path(out).read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    return pool


class Writer:
    def __init__(self, pool, protoc: str, out: Path) -> None:
        self.pool = pool
        self.protoc = protoc
        self.out = out
        self.cls = lambda name: GetMessageClass(
            pool.FindMessageTypeByName(name))

    def view(self, method: str, kind: str) -> str:
        name = f"{VIEWS}.{method}{'Call' if kind == 'request' else 'Reply'}"
        try:
            self.pool.FindMessageTypeByName(name)
        except KeyError:
            raise SystemExit(
                f"generate.py: cairn_debug.proto has no {name}: add the "
                f"views of rpc {method} there (see its other ones)")
        return name

    def write(self, name: str, method: str, kind: str, data: bytes,
              unknown_fields: bool = False) -> None:
        view = self.view(method, kind)
        text = subprocess.run(
            [self.protoc, f"-I{PROTO}", f"--decode={view}",
             "cairn_debug.proto"], input=data, capture_output=True,
            check=True, cwd=PROTO).stdout
        # protoc is a fifth implementation: its encoding of the text must
        # be these bytes again (unknown fields aside: it prints them by
        # number but cannot encode them back).
        if not unknown_fields:
            back = subprocess.run(
                [self.protoc, f"-I{PROTO}", f"--encode={view}",
                 "cairn_debug.proto"], input=text, capture_output=True,
                check=True, cwd=PROTO).stdout
            if back != data:
                raise SystemExit(f"generate.py: protoc re-encodes {name} "
                                 "differently")
        parsed = self.cls(view)()
        parsed.ParseFromString(data)
        doc = {"name": name, "method": method, "kind": kind,
               "message": json_format.MessageToDict(parsed)}
        (self.out / f"{name}.bin").write_bytes(data)
        (self.out / f"{name}.txt").write_bytes(text)
        (self.out / f"{name}.json").write_text(
            json.dumps(doc, indent=1, ensure_ascii=False) + "\n",
            encoding="utf-8")

    def request(self, method: str, body: bytes, **env) -> bytes:
        r = self.cls("cairn.v1.Request")(method=method, body=body, **env)
        return r.SerializeToString()

    def reply(self, body: bytes = b"", **env) -> bytes:
        return self.cls("cairn.v1.Response")(body=body, **env) \
            .SerializeToString()


def generate(out: Path, protoc: str) -> list[str]:
    pool = load_pool(protoc)
    w = Writer(pool, protoc, out)
    service = pool.FindServiceByName(SERVICE)
    names = []
    for m in service.methods:
        f = Filler()
        req = GetMessageClass(m.input_type)()
        f.fill(req)
        rid = hashlib.sha256(m.name.encode()).hexdigest()[:32]
        w.write(f"{m.name}.request", m.name, "request",
                w.request(m.name, req.SerializeToString(),
                          token=f"token-{m.name}", deadline_ms=30000,
                          request_id=rid))
        resp = GetMessageClass(m.output_type)()
        f.fill(resp)
        w.write(f"{m.name}.reply", m.name, "reply",
                w.reply(resp.SerializeToString()))
        names += [f"{m.name}.request", f"{m.name}.reply"]

    # The envelopes every client meets besides the full ones.
    extra = {
        # A call with nothing optional: no token, no deadline, no id, and
        # an empty body, which is then not on the wire at all.
        "Ping.request-minimal": ("Ping", "request", w.request("Ping", b"")),
        # An error: a code, a message, no body.
        "Complete.reply-lease-lost": ("Complete", "reply", w.reply(
            code=9, message="lease lost: heartbeat timeout (task 7, "
            "attempt 2) \u2013 retried")),
        # A code this client does not know (a newer server's): proto3
        # enums are open, so it must survive decoding and re-encoding.
        "Stats.reply-unknown-code": ("Stats", "reply", w.reply(
            code=99, message="a status from the future")),
        # Fields this client does not know, after the known ones, in the
        # body and in the envelope (a newer server's): kept as unknown
        # and written back as they came.
        "Ping.reply-unknown-field": ("Ping", "reply", w.reply(
            w.cls("cairn.v1.PingResponse")(
                server_time_ms=1767225600123, version="9.9.9")
            .SerializeToString() + b"\x7a\x05later") + b"\x78\x2a"),
    }
    for name, (method, kind, data) in extra.items():
        w.write(name, method, kind, data,
                unknown_fields=name.endswith("unknown-field"))
        names.append(name)
    return names


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--protoc", default="protoc")
    args = ap.parse_args()
    if not args.check:
        for p in HERE.iterdir():
            if p.suffix in (".bin", ".txt", ".json"):
                p.unlink()
        names = generate(HERE, args.protoc)
        print(f"generate.py: wrote {len(names)} vectors to {HERE}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        names = generate(Path(tmp), args.protoc)
        want = {p.name: p.read_bytes() for p in Path(tmp).iterdir()}
    have = {p.name: p.read_bytes() for p in HERE.iterdir()
            if p.suffix in (".bin", ".txt", ".json")}
    stale = sorted(n for n in want.keys() | have.keys()
                   if want.get(n) != have.get(n))
    if stale:
        print("generate.py: proto/testdata does not match cairn.proto "
              f"({len(stale)} files differ, e.g. {', '.join(stale[:4])}); "
              "run `python3 proto/testdata/generate.py` and commit the "
              "result", file=sys.stderr)
        return 1
    print(f"generate.py: {len(names)} vectors current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
