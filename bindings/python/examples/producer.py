#!/usr/bin/env python3
"""Enqueue a few "emails" tasks and print their results as a worker ends them.

Start cairnd (scripts/run.sh) and examples/worker.py first, then, from the
repository's root:

    PYTHONPATH=bindings/python python3 bindings/python/examples/producer.py
"""
from __future__ import annotations

import argparse
import json
import sys

import cairn


def main() -> int:
    ap = argparse.ArgumentParser(description="Enqueue tasks and await their results.")
    ap.add_argument("--url", default=cairn.DEFAULT_URL, help="cairnd's address")
    ap.add_argument("--queue", default="emails")
    ap.add_argument("--count", type=int, default=5, help="tasks to enqueue")
    ap.add_argument("--timeout", type=float, default=60, help="seconds to wait per task")
    args = ap.parse_args()

    try:
        client = cairn.Client(args.url)
    except cairn.Unavailable as e:
        print(f"producer: {e}\nproducer: is cairnd running? (scripts/run.sh)", file=sys.stderr)
        return 1
    with client:
        specs = [
            cairn.TaskSpec(
                args.queue,
                json.dumps({"to": f"user{i}@example.com", "subject": "hello"}),
                retry_initial=0.5,  # retry failed attempts quickly
            )
            for i in range(args.count)
        ]
        results = client.enqueue_many(specs)  # one atomic request
        print(f"producer: enqueued tasks {', '.join(str(r.id) for r in results)}")

        ok = True
        for r in results:
            try:
                task = client.await_result(r.id, timeout=args.timeout)
            except cairn.DeadlineExceeded:
                print(f"producer: task {r.id} not done after {args.timeout} s; "
                      "is examples/worker.py running?", file=sys.stderr)
                return 1
            outcome = task.result.decode() if task.state == "succeeded" else task.last_error
            print(f"producer: task {task.id} {task.state} "
                  f"after {task.attempt} attempt(s): {outcome}")
            ok = ok and task.state == "succeeded"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
