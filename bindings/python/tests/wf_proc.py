"""A worker process of the workflow tests: wf_proc.py URL WORKFLOW_QUEUE
LEASE_TIMEOUT.

Runs every workflow and activity of wf_defs.py; prints "ready", then
"stopped" when run() returns.
"""
import logging
import sys

import cairn
import wf_defs


def main() -> None:
    url, queue, lease_timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    logging.basicConfig(level=logging.WARNING)
    worker = cairn.Worker(url, concurrency=2, poll_wait=0.5, lease_timeout=lease_timeout,
                          workflows=[wf_defs.survivor], activities=[wf_defs.double],
                          workflow_queues=[queue])
    print("ready", flush=True)
    worker.run()
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
