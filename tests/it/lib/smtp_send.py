#!/usr/bin/env python3
"""SMTP and TCP clients for the sink's integration test.

    smtp_send.py smtplib --server H:P --source ADDR --to RCPT [--to RCPT]...
                         [--from ADDR] [--subject S] [--body B]
        Delivers one message with Python's smtplib; prints the DATA reply.
    smtp_send.py script --server H:P --source ADDR < SCRIPT
        Plays a dialogue, one step a line (after OpenSMTPD's smtpscript):
          > TEXT        send TEXT CRLF; consecutive sends go out in one write
                        (that is pipelining)
          > @long N     send N bytes of 'A' and CRLF (one over-long line)
          > @fill N     send N bytes of message lines (for DATA)
          < CODE [TEXT] read one (multi-line) reply: its code, and TEXT in it
          < @close      the server must close the connection
          << TEXT       read until the server closes; TEXT must be in what came
          > @junk N     send N lines of random bytes (NUL and 8-bit included)
        Fails (exit 1) with the transcript at the first mismatch.
    smtp_send.py flood --server H:P --source ADDR --count N
        Opens N connections at once, reads each one's first line, prints
        "220: a, 421: b, other: c", then closes them all.
    smtp_send.py target --server H:P --source ADDR [--request LINE] [--wait-banner]
        Connects to the TCP target, optionally waits for the banner, sends
        LINE (and a blank line if it looks like HTTP), prints all it gets.
Every connection comes from --source, so the sink records a known peer.
"""
import argparse
import random
import smtplib
import socket
import sys
import time
from email.message import EmailMessage

TIMEOUT = 10


def address(text):
    host, port = text.rsplit(":", 1)
    return host.strip("[]"), int(port)


def connect(args):
    return socket.create_connection(address(args.server), timeout=TIMEOUT,
                                    source_address=(args.source, 0))


def cmd_smtplib(args):
    message = EmailMessage()
    message["From"] = args.mail_from
    message["To"] = ", ".join(args.to)
    message["Subject"] = args.subject
    message.set_content(args.body)
    host, port = address(args.server)
    with smtplib.SMTP(host, port, local_hostname="smtplib.client", timeout=TIMEOUT,
                      source_address=(args.source, 0)) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("pipelining") and smtp.has_extn("8bitmime"), smtp.esmtp_features
        refused = smtp.send_message(message, args.mail_from, args.to)
        print("refused:", refused if refused else "none")
        code, text = smtp.noop()
        print(code, text.decode())


class Dialogue:
    def __init__(self, sock):
        self.sock = sock
        self.pending = []
        self.buffer = b""
        self.transcript = []

    def send(self, data):
        self.pending.append(data)
        self.transcript.append(">>> " + data[:120].decode("ascii", "replace").rstrip()
                               + (" ..." if len(data) > 120 else ""))

    def flush(self):
        if self.pending:
            self.sock.sendall(b"".join(self.pending))
            self.pending = []

    def line(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode("ascii", "replace")

    def reply(self):
        lines = []
        while True:
            line = self.line()
            if line is None:
                return None
            lines.append(line)
            self.transcript.append("<<< " + line)
            if len(line) < 4 or line[3] != "-":
                return "\n".join(lines)

    def fail(self, why):
        print("\n".join(self.transcript), file=sys.stderr)
        print("FAIL:", why, file=sys.stderr)
        sys.exit(1)


def fill(n):
    line = b"x" * 78 + b"\r\n"
    return (line * (n // len(line) + 1))[:n] + b"\r\n"


def junk(lines):
    rnd = random.Random(7)
    alphabet = [b for b in range(256) if b not in (10, 13)]
    return b"".join(bytes(rnd.choice(alphabet) for _ in range(rnd.randint(1, 200))) + b"\r\n"
                    for _ in range(lines))


def cmd_script(args):
    dialogue = Dialogue(connect(args))
    for step in sys.stdin.read().splitlines():
        if not step.strip():
            continue
        kind, _, rest = step.partition(" ")
        if kind == ">":
            if rest.startswith("@long "):
                dialogue.send(b"A" * int(rest.split()[1]) + b"\r\n")
            elif rest.startswith("@fill "):
                dialogue.send(fill(int(rest.split()[1])))
            elif rest.startswith("@junk "):
                dialogue.send(junk(int(rest.split()[1])))
            else:
                dialogue.send(rest.encode() + b"\r\n")
            continue
        if kind == "<<":
            dialogue.flush()
            replies = []
            try:
                while (reply := dialogue.reply()) is not None:
                    replies.append(reply)
            except OSError:  # a reset counts as closed
                pass
            if rest not in "\n".join(replies):
                dialogue.fail(f"expected {rest} before the close")
            continue
        if kind != "<":
            dialogue.fail("bad step: " + step)
        try:
            dialogue.flush()
            reply = dialogue.reply()
        except OSError as error:  # a reset counts as closed
            reply = None if rest == "@close" else dialogue.fail(f"{step}: {error}")
        if rest == "@close":
            if reply is not None:
                dialogue.fail("expected the server to close, got: " + reply)
            continue
        if reply is None:
            dialogue.fail(f"expected {rest}, but the server closed")
        code, _, text = rest.partition(" ")
        if not reply.startswith(code) or text not in reply:
            dialogue.fail(f"expected {rest}, got: {reply}")
    print("\n".join(dialogue.transcript))


def cmd_flood(args):
    socks = [connect(args) for _ in range(args.count)]
    counts = {"220": 0, "421": 0, "other": 0}
    for sock in socks:
        try:
            first = sock.recv(512)[:3].decode("ascii", "replace")
        except OSError:
            first = ""
        counts[first if first in counts else "other"] += 1
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    for sock in socks:
        sock.close()


def cmd_target(args):
    sock = connect(args)
    received = b""
    if args.wait_banner:
        while not received.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    if args.request is None:
        sys.stdout.write(received.decode("ascii", "replace"))
        return
    request = args.request.encode() + b"\r\n"
    if b" HTTP/1." in request:
        request += b"Host: target.sink.test\r\nUser-Agent: smtp_send.py\r\n\r\n"
    sock.sendall(request)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    sys.stdout.write(received.decode("ascii", "replace"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("smtplib", "script", "flood", "target"):
        p = sub.add_parser(name)
        p.add_argument("--server", required=True)
        p.add_argument("--source", required=True)
        if name == "smtplib":
            p.add_argument("--to", action="append", required=True)
            p.add_argument("--from", dest="mail_from", default="probe@client.example")
            p.add_argument("--subject", default="plughole test")
            p.add_argument("--body", default="a test message")
        if name == "flood":
            p.add_argument("--count", type=int, required=True)
        if name == "target":
            p.add_argument("--request")
            p.add_argument("--wait-banner", action="store_true")
    args = parser.parse_args()
    {"smtplib": cmd_smtplib, "script": cmd_script, "flood": cmd_flood, "target": cmd_target}[args.command](args)


if __name__ == "__main__":
    main()
