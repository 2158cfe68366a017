"""An S3-compatible server on loopback for the Litestream test (moto).

    python s3_server.py PORT_FILE BUCKET MAX_SECONDS

Listens on 127.0.0.1 on a port the kernel picks, creates BUCKET, writes
the port into PORT_FILE (renamed into place, so that a reader sees it
whole) and serves until its standard input closes, SIGTERM, or
MAX_SECONDS pass: a test that dies cannot leave it running for long.
"""
import os
import signal
import sys
import threading
import urllib.request

from moto.server import ThreadedMotoServer


def main():
    port_file, bucket, max_seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/{bucket}", method="PUT")
    # The machine may name a proxy; loopback never goes through one.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    opener.open(req, timeout=10).read()
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{port}\n")
    os.rename(port_file + ".tmp", port_file)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(max_seconds)
    server.stop()


if __name__ == "__main__":
    main()
