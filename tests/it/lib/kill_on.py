#!/usr/bin/env python3
"""kill_on.py WATCH PATTERN OUT -- COMMAND...: runs COMMAND and kills it with
SIGKILL the moment PATTERN (a regex) shows up in what it watches: WATCH is
"stderr" (the command's, read as it comes) or a file that something else
appends to. Everything the command wrote to stderr goes to OUT; exits 0 once
it killed the command, 1 if the command ended first or 60 s passed."""
import os, re, selectors, signal, subprocess, sys, time

watch, pattern, out = sys.argv[1:4]
command = sys.argv[sys.argv.index("--") + 1:]
regex = re.compile(pattern)
with open(out, "wb") as log:
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.set_blocking(child.stderr.fileno(), False)
    watched = None
    pending = b""
    deadline = time.monotonic() + 60
    killed = False
    while time.monotonic() < deadline and not killed:
        chunk = child.stderr.read()
        if chunk:
            log.write(chunk)
            if watch == "stderr":
                pending += chunk
                killed = any(regex.search(line.decode(errors="replace")) for line in pending.split(b"\n"))
                pending = pending.rsplit(b"\n", 1)[-1]
        if watch != "stderr" and not killed:
            if watched is None and os.path.exists(watch):
                watched = open(watch, "rb")
            if watched is not None:
                for line in watched.readlines():
                    if regex.search(line.decode(errors="replace")):
                        killed = True
        if killed:
            child.send_signal(signal.SIGKILL)
            break
        if child.poll() is not None:
            break
        time.sleep(0.0002)
    child.wait()
    # What it had written before it died.
    rest = child.stderr.read()
    if rest:
        log.write(rest)
sys.exit(0 if killed else 1)
