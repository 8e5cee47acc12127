"""Drives `s3trawl shell` through a pseudo-terminal, as a person would: starts a statement that
runs for minutes, presses Ctrl-C, and checks that the prompt comes back within a second and
that the session still answers. Used by tests/test_shell.rs; exit 0 when all of that holds."""

import os
import pty
import select
import sys
import time

binary, logs = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.environ["NO_COLOR"] = "1"
    os.execv(binary, [binary, "shell", "--logs", logs])


def read_until(token, timeout, after=None):
    """Reads until `token` shows (after `after`, when given) or `timeout` seconds pass."""
    seen = b""
    end = time.time() + timeout
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            start = 0
            if after is not None:
                start = seen.find(after)
                if start < 0:
                    continue
            if token in seen[start:]:
                return seen, True
    return seen, False


failures = []
seen, ok = read_until(b"s3trawl> ", 120)
if not ok:
    failures.append(f"no prompt: {seen!r}")
else:
    os.write(fd, b"SELECT count(*) FROM generate_series(1, 1000000000000);\r")
    # What the line editor echoes (it redraws the prompt as the line is typed) is read first.
    read_until(b"\x00", 2)
    pressed = time.time()
    os.write(fd, b"\x03")
    seen, ok = read_until(b"s3trawl> ", 10, after=b"cancelled")
    took = time.time() - pressed
    print(f"prompt back {ok} after {took:.2f} s: {seen!r}")
    if not ok or took > 1.0:
        failures.append(f"the prompt came back {ok} after {took:.2f} s: {seen!r}")
    if b"cancelled" not in seen:
        failures.append(f"no word of the cancel: {seen!r}")
    os.write(fd, b"SELECT 41 + 1 AS answer, count(*) > 0 AS tables_kept FROM access_logs;\r")
    seen, ok = read_until(b"true", 60)
    if not ok or b"42" not in seen:
        failures.append(f"the session does not answer after the cancel: {seen!r}")
    os.write(fd, b".quit\r")
    read_until(b"\x00", 5)
try:
    os.kill(pid, 9)
except ProcessLookupError:
    pass
os.waitpid(pid, 0)
for f in failures:
    print(f, file=sys.stderr)
sys.exit(1 if failures else 0)
