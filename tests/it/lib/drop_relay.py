#!/usr/bin/env python3
"""An open relay that hangs up after each message it takes (for verify's
reconnects): accepts every envelope with PIPELINING, answers 250 to the
message and closes the session ('drop'); 'droprefuse' also refuses every
recipient after the first session; 'dropclose' stops listening after the
first message. Delivers each message to --deliver after --delay seconds
(unless --no-deliver) and prints one MESSAGE line per message received.
Loopback only: the tests give it 127.x addresses."""
import argparse, asyncio, smtplib, sys, threading, time

def deliver(rcpts, body, args):
    time.sleep(args.delay)
    wanted = [r for r in rcpts if r.lower().endswith("@sink.test")]
    if not wanted or args.no_deliver: return
    host, port = args.deliver.rsplit(":", 1)
    try:
        with smtplib.SMTP(host, int(port), timeout=10) as s:
            s.sendmail("relay@drop.test", wanted, body)
        print("delivered", wanted, flush=True)
    except Exception as e:
        print("not delivered", e, flush=True)

async def session(reader, writer, args):
    async def reply(t):
        writer.write((t + "\r\n").encode()); await writer.drain()
    rcpts = []
    STATE["sessions"] += 1
    try:
        await reply("220 drop.relay.test ESMTP")
        while True:
            line = await asyncio.wait_for(reader.readline(), 30)
            if not line: break
            v = line[:4].upper()
            if v == b"EHLO": await reply("250-drop.relay.test\r\n250 PIPELINING")
            elif v == b"HELO": await reply("250 drop.relay.test")
            elif v == b"MAIL": rcpts = []; await reply("250 2.1.0 Ok")
            elif v == b"RCPT":
                r = line[8:].strip().decode(errors="replace").strip("<>")
                if args.mode == "droprefuse" and STATE["sessions"] > 1:
                    await reply("550 5.7.1 Relay access denied"); continue
                rcpts.append(r); await reply("250 2.1.5 Ok")
            elif v == b"DATA":
                await reply("354 go")
                body = bytearray()
                while True:
                    d = await asyncio.wait_for(reader.readline(), 30)
                    if not d:
                        body = None; break
                    if d in (b".\r\n", b".\n"): break
                    body += d[1:] if d.startswith(b"..") else d
                if body is None:
                    print("DISCARDED (eof mid-data)", rcpts, flush=True); break
                print("MESSAGE", rcpts, time.time(), flush=True)
                threading.Thread(target=deliver, args=(list(rcpts), bytes(body), args), daemon=True).start()
                await reply("250 2.0.0 queued")
                if args.mode == "dropclose":
                    SRV[0].close()
                if args.mode in ("drop", "droprefuse", "dropclose"):
                    break
            elif v == b"RSET": rcpts = []; await reply("250 Ok")
            elif v == b"QUIT": await reply("221 bye"); break
            else: await reply("502 5.5.2 no")
    except Exception as e:
        pass
    finally:
        writer.close()

STATE = {"sessions": 0}
SRV = []
async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--deliver", required=True)
    p.add_argument("--delay", type=float, default=1.0)
    p.add_argument("--mode", default="drop")
    p.add_argument("--no-deliver", action="store_true")
    a = p.parse_args()
    h, port = a.listen.rsplit(":", 1)
    srv = await asyncio.start_server(lambda r, w: session(r, w, a), h, int(port))
    SRV.append(srv)
    print("listening", flush=True)
    try:
        await srv.serve_forever()
    except asyncio.CancelledError:
        await asyncio.sleep(3600)
asyncio.run(main())
