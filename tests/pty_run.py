"""Runs a command in a pseudo-terminal (stdin, stdout and stderr a terminal, as a person's
shell gives it) and prints everything it wrote; exits with the command's exit code. Used by
the tests of what a command shows only on a terminal (progress)."""

import os
import pty
import sys

pid, fd = pty.fork()
if pid == 0:
    os.environ["NO_COLOR"] = "1"
    os.execv(sys.argv[1], sys.argv[1:])
seen = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(seen)
sys.exit(os.waitstatus_to_exitcode(status))
