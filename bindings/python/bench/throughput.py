#!/usr/bin/env python3
"""Worker throughput: enqueue N tasks in batches, then time how long it
takes to drain them with trivial handlers.

    PYTHONPATH=bindings/python python3 bindings/python/bench/throughput.py \\
        --url tcp://127.0.0.1:7420 --tasks 2000 --concurrency 8 --mode worker

``--mode worker`` uses cairn.Worker (a poller, handler threads, automatic
heartbeats, completions that lease the next task); ``--mode loop`` uses
bare threads that each lease one task and complete it, the same loop as
bench/c_throughput.c, and ``--mode loop-next`` the same with
Task.complete_next (c_throughput's "next"), to tell the binding's cost from
the Worker's. Prints one line with tasks/s.
"""
from __future__ import annotations

import argparse
import os
import threading
import time

import cairn

BATCH = 100


def enqueue(client: cairn.Client, queue: str, n: int) -> None:
    for start in range(0, n, BATCH):
        client.enqueue_many([{"queue": queue, "payload": b"x"}] * min(BATCH, n - start))


def drain_worker(client: cairn.Client, queue: str, n: int, concurrency: int) -> float:
    """Returns when run() returned: the last completion, plus at most the
    final long-poll's poll_wait (kept short here for that reason)."""
    worker = cairn.Worker(client, concurrency=concurrency, poll_wait=0.05)
    lock = threading.Lock()
    done = 0

    @worker.handler(queue)
    def trivial(task: cairn.Task) -> bytes:
        nonlocal done
        with lock:
            done += 1
            if done == n:
                worker.stop()
        return task.payload

    worker.run(handle_signals=False)
    assert worker.completed == n, worker.completed
    return time.perf_counter()


def drain_loop(
    client: cairn.Client, queue: str, n: int, concurrency: int, use_next: bool = False
) -> float:
    """Returns when the last completion was acknowledged."""
    lock = threading.Lock()
    left = n
    end = 0.0

    def loop() -> None:
        nonlocal left, end
        while True:
            with lock:
                if left <= 0:
                    return
            for task in client.lease(queue, wait=0.2):
                while task is not None:
                    if use_next:
                        nxt = task.complete_next(task.payload)
                    else:
                        nxt = task.complete(task.payload)
                    with lock:
                        left -= 1
                        if left == 0:
                            end = time.perf_counter()
                    task = nxt

    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return end


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=cairn.DEFAULT_URL)
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--mode", choices=("worker", "loop", "loop-next"), default="worker")
    args = ap.parse_args()
    queue = f"bench.py.{args.mode}.{os.getpid()}.{time.time_ns()}"
    with cairn.Client(args.url) as client:
        enqueue(client, queue, args.tasks)
        start = time.perf_counter()
        if args.mode == "worker":
            end = drain_worker(client, queue, args.tasks, args.concurrency)
        else:
            end = drain_loop(client, queue, args.tasks, args.concurrency,
                             args.mode == "loop-next")
        took = end - start
        (s,) = client.stats(queue)
        assert s.succeeded == args.tasks, s
    print(f"python {args.mode}: {args.tasks} tasks, concurrency {args.concurrency}, "
          f"{took:.3f} s, {args.tasks / took:.0f} tasks/s")


if __name__ == "__main__":
    main()
