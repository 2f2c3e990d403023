#!/usr/bin/env python3
"""A DNS server that answers nothing: it logs every query and says REFUSED.

    dns_trap.py --listen 127.0.12.53 --log FILE

Point the peers' private resolv.conf at it (PEERS_DNS_ADDR) to prove that no
peer resolves names: after the test, FILE must be empty. UDP and TCP, port 53.
"""
import argparse
import asyncio
import struct


def qname(msg):
    labels, i = [], 12
    while i < len(msg) and msg[i] != 0 and len(labels) < 64:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("latin-1"))
        i += 1 + n
    return ".".join(labels) or "?"


def refuse(msg):
    if len(msg) < 12:
        return None
    flags = struct.unpack("!H", msg[2:4])[0]
    flags = 0x8000 | (flags & 0x7900) | 5  # response, keep opcode and RD, REFUSED
    return msg[:2] + struct.pack("!H", flags) + msg[4:6] + b"\0" * 6 + msg[12:]


class Trap:
    def __init__(self, log):
        self.log = log

    def record(self, proto, peer, msg):
        with open(self.log, "a") as f:
            f.write("%s %s %s\n" % (proto, peer[0], qname(msg)))


class Udp(asyncio.DatagramProtocol):
    def __init__(self, trap):
        self.trap = trap

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.trap.record("udp", addr, data)
        reply = refuse(data)
        if reply:
            self.transport.sendto(reply, addr)


async def serve(args):
    trap = Trap(args.log)

    async def tcp(reader, writer):
        try:
            size = struct.unpack("!H", await reader.readexactly(2))[0]
            msg = await reader.readexactly(size)
            trap.record("tcp", writer.get_extra_info("peername"), msg)
            reply = refuse(msg)
            if reply:
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: Udp(trap), local_addr=(args.listen, 53))
    server = await asyncio.start_server(tcp, args.listen, 53, reuse_address=True)
    async with server:
        await server.serve_forever()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", required=True)
    p.add_argument("--log", required=True)
    args = p.parse_args()
    open(args.log, "a").close()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
