#!/usr/bin/env python3
"""Drive a command on a pseudo-terminal for the vault tests.

Reads a JSON spec on stdin: {"argv": [...], "steps": [{"expect": regex, "send": text}], "timeout": seconds}.
For each step, waits until the terminal output (since the previous match) matches `expect`, then types
`send`. Prints everything the terminal showed to stdout and exits with the command's exit code
(128+signal if it was killed). Bounded: every wait ends at the deadline.
"""
import json
import os
import pty
import re
import select
import sys
import time

spec = json.load(sys.stdin)
deadline = time.time() + float(spec.get("timeout", 60))
pid, fd = pty.fork()
if pid == 0:
    os.execvp(spec["argv"][0], spec["argv"])

out = b""
pos = 0


def pump(wait):
    global out
    r, _, _ = select.select([fd], [], [], wait)
    if not r:
        return True
    try:
        data = os.read(fd, 4096)
    except OSError:
        return False
    if not data:
        return False
    out += data
    return True


alive = True
for step in spec["steps"]:
    rx = re.compile(step["expect"].encode())
    while alive and time.time() < deadline:
        m = rx.search(out, pos)
        if m:
            pos = m.end()
            break
        alive = pump(0.2)
    else:
        sys.stderr.write("vault_pty: did not see %r\n" % step["expect"])
        break
    time.sleep(0.05)
    os.write(fd, step["send"].encode())

while alive and time.time() < deadline:
    alive = pump(0.2)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        while pump(0.05):
            pass
        break
else:
    status = None

if status is None:
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        done, status = pid, 0
    if not done:
        os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)

sys.stdout.write(out.decode("utf-8", "replace"))
sys.stdout.flush()
if os.WIFSIGNALED(status):
    sys.exit(128 + os.WTERMSIG(status))
sys.exit(os.WEXITSTATUS(status))
