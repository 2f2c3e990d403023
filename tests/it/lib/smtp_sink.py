#!/usr/bin/env python3
"""A tiny SMTP receiver for integration tests: a stand-in for plughole's sink.

    smtp_sink.py --listen 127.0.12.1:2525 --dir DIR [--banner-host NAME]

Accepts every envelope and writes each message to DIR/msg-<n>.eml, atomically
(written under a dot name, then renamed), so a test polling DIR never reads a
half-written message. The file starts with X-Sink-* lines saying who delivered
it (peer address, HELO, MAIL FROM, RCPT TO), then the message as received,
dot-unstuffed. Lines and messages are bounded; anything beyond is refused.
No PIPELINING is offered, so clients talk in lock-step.
"""
import argparse
import asyncio
import itertools
import os
import sys

MAX_LINE = 4096
MAX_MESSAGE = 1 << 20
IDLE_TIMEOUT = 30


class Session:
    counter = itertools.count(1)

    def __init__(self, args, reader, writer):
        self.args = args
        self.reader = reader
        self.writer = writer
        self.helo = ""
        self.reset()

    def reset(self):
        self.mail_from = None
        self.rcpts = []

    async def reply(self, text):
        self.writer.write((text + "\r\n").encode())
        await self.writer.drain()

    async def readline(self):
        line = await asyncio.wait_for(self.reader.readline(), IDLE_TIMEOUT)
        if not line:
            raise ConnectionResetError("peer closed")
        if len(line) > MAX_LINE:
            raise ValueError("line too long")
        return line

    async def run(self):
        await self.reply("220 %s ESMTP plughole-test-sink" % self.args.banner_host)
        while True:
            line = (await self.readline()).decode("latin-1").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                self.helo = arg
                self.reset()
                if verb == "EHLO":
                    await self.reply("250-%s\r\n250-8BITMIME\r\n250 SIZE %d"
                                     % (self.args.banner_host, MAX_MESSAGE))
                else:
                    await self.reply("250 %s" % self.args.banner_host)
            elif verb == "MAIL" and arg.upper().startswith("FROM:"):
                self.reset()
                self.mail_from = arg[5:].strip()
                await self.reply("250 2.1.0 ok")
            elif verb == "RCPT" and arg.upper().startswith("TO:"):
                if self.mail_from is None:
                    await self.reply("503 5.5.1 MAIL first")
                    continue
                self.rcpts.append(arg[3:].strip())
                await self.reply("250 2.1.5 ok")
            elif verb == "DATA":
                if not self.rcpts:
                    await self.reply("503 5.5.1 RCPT first")
                    continue
                await self.reply("354 go ahead")
                await self.data()
            elif verb == "RSET":
                self.reset()
                await self.reply("250 2.0.0 ok")
            elif verb == "NOOP":
                await self.reply("250 2.0.0 ok")
            elif verb == "QUIT":
                await self.reply("221 2.0.0 bye")
                return
            else:
                await self.reply("502 5.5.2 command not implemented")

    async def data(self):
        body = bytearray()
        too_big = False
        while True:
            line = await self.readline()
            if line in (b".\r\n", b".\n"):
                break
            if line.startswith(b"."):
                line = line[1:]
            if len(body) + len(line) > MAX_MESSAGE:
                too_big = True
            else:
                body += line
        if too_big:
            await self.reply("552 5.3.4 message too big")
        else:
            self.store(bytes(body))
            await self.reply("250 2.0.0 queued")
        self.reset()

    def store(self, body):
        peer = self.writer.get_extra_info("peername")
        head = ["X-Sink-Peer: %s:%d" % (peer[0], peer[1]),
                "X-Sink-Helo: %s" % self.helo,
                "X-Sink-Mail-From: %s" % self.mail_from]
        head += ["X-Sink-Rcpt-To: %s" % r for r in self.rcpts]
        n = next(Session.counter)
        final = os.path.join(self.args.dir, "msg-%d-%d.eml" % (os.getpid(), n))
        tmp = os.path.join(self.args.dir, ".msg-%d-%d.tmp" % (os.getpid(), n))
        with open(tmp, "wb") as f:
            f.write(("\r\n".join(head) + "\r\n").encode("latin-1"))
            f.write(body)
        os.rename(tmp, final)
        print("smtp_sink: stored %s from %s" % (final, peer[0]), file=sys.stderr, flush=True)


async def serve(args):
    async def handle(reader, writer):
        try:
            await Session(args, reader, writer).run()
        except (ConnectionError, ValueError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            print("smtp_sink: session ended: %r" % e, file=sys.stderr, flush=True)
        finally:
            writer.close()

    host, _, port = args.listen.rpartition(":")
    server = await asyncio.start_server(handle, host.strip("[]"), int(port),
                                        limit=MAX_LINE + 2, reuse_address=True)
    async with server:
        await server.serve_forever()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", required=True, help="ADDR:PORT")
    p.add_argument("--dir", required=True, help="directory for received messages")
    p.add_argument("--banner-host", default="sink.test")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
