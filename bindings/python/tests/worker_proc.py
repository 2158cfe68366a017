"""A worker process for the signal tests: worker_proc.py URL QUEUE SECONDS.

Each task's handler prints "started ID", sleeps SECONDS and returns
"finished". The process prints "stopped" when run() returns.
"""
import sys
import time

import cairn


def main() -> None:
    url, queue, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    worker = cairn.Worker(url, concurrency=1, poll_wait=0.5)

    @worker.handler(queue)
    def handle(task: cairn.Task) -> str:
        print(f"started {task.id}", flush=True)
        time.sleep(seconds)
        return "finished"

    print("ready", flush=True)
    worker.run()
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
