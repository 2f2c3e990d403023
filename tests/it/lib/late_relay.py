#!/usr/bin/env python3
"""A relay that delivers whatever it answered, for verify's tests (issue 11).

    late_relay.py --serve ADDR:PORT:MODE [--serve ...] --deliver H:P
                  [--delay S] [--late S]

Every MODE takes every envelope (no PIPELINING, so clients talk in lock-step)
and queues each message; once the client's session ends, it waits --delay
seconds and delivers the queued messages to --deliver, as a relay's queue
would. MODE says how it answers the final dot:
    late  after --late seconds (longer than the client waits): 250
    554   at once: 554 (refused; delivered all the same)
Only recipients at sink.test are delivered; others are dropped.
Prints "listening ADDR:PORT" for each address once ready.
"""
import argparse
import asyncio
import smtplib
import sys

MAX_LINE = 4096
MAX_MESSAGE = 1 << 20


async def session(reader, writer, mode, args):
    queued = []
    mail_from, rcpts = None, []

    async def reply(text):
        writer.write((text + "\r\n").encode())
        await writer.drain()

    try:
        await reply("220 late.relay.test ESMTP")
        while True:
            line = await asyncio.wait_for(reader.readline(), 30)
            if not line:
                break
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                await reply("250 late.relay.test")
            elif verb == b"MAIL":
                mail_from, rcpts = line[10:].strip().decode(errors="replace"), []
                await reply("250 2.1.0 Ok")
            elif verb == b"RCPT":
                rcpts.append(line[8:].strip().decode(errors="replace").strip("<>"))
                await reply("250 2.1.5 Ok")
            elif verb == b"DATA":
                await reply("354 End data with <CR><LF>.<CR><LF>")
                body = bytearray()
                while True:
                    data = await asyncio.wait_for(reader.readline(), 30)
                    if not data or data in (b".\r\n", b".\n"):
                        break
                    if len(body) < MAX_MESSAGE:
                        body += data[1:] if data.startswith(b"..") else data
                queued.append((list(rcpts), bytes(body)))
                if mode == "late":
                    await asyncio.sleep(args.late)
                    await reply("250 2.0.0 Ok: queued")
                else:
                    await reply("554 5.7.1 Message refused")
            elif verb == b"RSET":
                mail_from, rcpts = None, []
                await reply("250 2.0.0 Ok")
            elif verb == b"QUIT":
                await reply("221 2.0.0 Bye")
                break
            else:
                await reply("502 5.5.2 Error: command not recognized")
    except (asyncio.TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()
    if queued:
        await asyncio.sleep(args.delay)
        await asyncio.get_running_loop().run_in_executor(None, deliver, queued, args)


def deliver(queued, args):
    host, port = args.deliver.rsplit(":", 1)
    for rcpts, body in queued:
        wanted = [r for r in rcpts if r.lower().endswith("@sink.test")]
        if not wanted:
            continue
        try:
            with smtplib.SMTP(host, int(port), timeout=10) as smtp:
                smtp.sendmail("relay@late.relay.test", wanted, body)
            print("delivered", ",".join(wanted), flush=True)
        except (OSError, smtplib.SMTPException) as error:
            print("not delivered:", error, flush=True)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="append", required=True)
    parser.add_argument("--deliver", required=True)
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--late", type=float, default=3.0)
    args = parser.parse_args()
    servers = []
    for spec in args.serve:
        address, port, mode = spec.rsplit(":", 2)
        if mode not in ("late", "554"):
            sys.exit(f"late_relay.py: unknown mode {mode}")
        server = await asyncio.start_server(
            lambda r, w, mode=mode: session(r, w, mode, args), address, int(port))
        servers.append(server)
        print(f"listening {address}:{port}", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(main())
