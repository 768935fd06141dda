"""Run one moto server for one test process and stop it when that process goes away.

Usage: python moto_guard.py PORT LOG_FILE SERVER_COMMAND...
Runs SERVER_COMMAND -H 127.0.0.1 -p PORT (moto_server itself, or fault_proxy.py, which serves
moto behind the fault injector) and prints its PID as the first line on stdout.

The harness holds the write end of our stdin for as long as it lives and never writes to it.
EOF on stdin therefore means the harness is gone -- it returned, panicked, was killed or its
Rust statics were never dropped -- and we stop moto by its PID. This is what keeps
`cargo test` / `cargo nextest` from leaving a moto_server behind.

moto's stdout and stderr go to LOG_FILE, which the harness reads when startup fails and which
we delete on a clean shutdown (set E2E_KEEP_MOTO_LOG=1 to keep it).
"""

import os
import signal
import subprocess
import sys
import threading

STOP_GRACE_SECONDS = 10


def main() -> int:
    port, log_path, command = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not command:
        print("usage: moto_guard.py PORT LOG_FILE SERVER_COMMAND...", file=sys.stderr)
        return 2

    # Ctrl-C in a terminal reaches the whole foreground process group. moto gets it too and
    # stops; we wait for the harness to go away instead of dying first. A Python handler (not
    # SIG_IGN) is used so that moto, after exec, gets the default disposition back.
    signal.signal(signal.SIGINT, lambda *_: None)

    with open(log_path, "ab", buffering=0) as log:
        server = subprocess.Popen(
            [*command, "-H", "127.0.0.1", "-p", port],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    # The harness reads moto's PID from our first line (and nothing else from stdout).
    print(server.pid, flush=True)

    stopping = threading.Event()

    def kill_if_alive():
        if server.poll() is None:
            server.kill()

    def stop(*_):
        # Only signals: the main thread is the one waiting for moto, and a wait here (e.g. in
        # the SIGTERM handler, which runs on the main thread) would contend with it.
        if stopping.is_set():
            return
        stopping.set()
        if server.poll() is None:
            server.terminate()
            escalate = threading.Timer(STOP_GRACE_SECONDS, kill_if_alive)
            escalate.daemon = True
            escalate.start()

    signal.signal(signal.SIGTERM, stop)

    def watch_stdin():
        # Returns on EOF, i.e. when the harness process has exited.
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        stop()

    threading.Thread(target=watch_stdin, daemon=True).start()

    code = server.wait()
    if not stopping.is_set():
        # moto died on its own (e.g. the port was taken): keep the log for the harness.
        return code if code != 0 else 1
    if not os.environ.get("E2E_KEEP_MOTO_LOG"):
        try:
            os.unlink(log_path)
        except FileNotFoundError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
