#!/usr/bin/env python3
"""Run a handler for the "emails" queue until Ctrl-C or SIGTERM.

With cairnd running (scripts/run.sh), from the repository's root:

    PYTHONPATH=bindings/python python3 bindings/python/examples/worker.py

then run examples/producer.py in another terminal. The first attempt of
every third task fails on purpose, to show a retry.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time

import cairn

log = logging.getLogger("worker")


def main() -> int:
    ap = argparse.ArgumentParser(description="Run handlers for a queue.")
    ap.add_argument("--url", default=cairn.DEFAULT_URL, help="cairnd's address")
    ap.add_argument("--queue", default="emails")
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stdout)

    worker = cairn.Worker(args.url, concurrency=args.concurrency)

    @worker.handler(args.queue)
    def send_email(task: cairn.Task) -> dict:
        message = task.json()
        log.info("task %d attempt %d: sending to %s", task.id, task.attempt, message["to"])
        if task.id % 3 == 0 and task.attempt == 1:
            raise ConnectionError("SMTP server busy")  # the task is retried
        time.sleep(0.2)  # the work; the worker heartbeats meanwhile
        return {"sent_to": message["to"], "attempt": task.attempt}

    log.info("waiting for tasks on %r at %s (Ctrl-C to stop)", args.queue, args.url)
    try:
        worker.run()
    except cairn.Unavailable as e:
        log.error("%s; is cairnd running? (scripts/run.sh)", e)
        return 1
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
