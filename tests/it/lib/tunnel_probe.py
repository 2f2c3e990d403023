#!/usr/bin/env python3
"""Open a tunnel through a proxy and print the target's first line.

    tunnel_probe.py --proto http|socks4|socks5 --proxy ADDR:PORT
                    --target IP:PORT [--user U --password P] [--timeout S]

Exit 0: the tunnel is up; the target's first line (e.g. an SMTP banner) is
printed. Exit 2: the proxy refused; its answer is printed (HTTP status line,
SOCKS reply code, "auth required"). Exit 1: anything else (no answer, garbage,
timeout). Targets are IPv4 literals only: the proxy must never resolve names.
Only loopback targets, and 0.0.0.0 (which never leaves the host: it checks
that a proxy's destination ACL refuses what is not in 127.0.0.0/8).
"""
import argparse
import ipaddress
import socket
import struct
import sys


class Refused(Exception):
    pass


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("proxy closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_line(sock, limit=4096):
    buf = b""
    while not buf.endswith(b"\n"):
        if len(buf) >= limit:
            raise ValueError("line longer than %d bytes" % limit)
        chunk = sock.recv(1)
        if not chunk:
            break
        buf += chunk
    return buf.decode("latin-1").rstrip("\r\n")


def via_http(sock, host, port, args):
    sock.sendall(("CONNECT %s:%d HTTP/1.0\r\n\r\n" % (host, port)).encode())
    status = recv_line(sock)
    while recv_line(sock):
        pass
    parts = status.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError("not an HTTP answer: %r" % status)
    if parts[1] != "200":
        raise Refused(status)


def via_socks4(sock, host, port, args):
    user = (args.user or "").encode()
    sock.sendall(struct.pack("!BBH4s", 4, 1, port, socket.inet_aton(host)) + user + b"\0")
    vn, cd = struct.unpack("!BB", recv_exact(sock, 8)[:2])
    if vn != 0:
        raise ValueError("bad SOCKS4 reply version %d" % vn)
    if cd != 90:
        raise Refused("SOCKS4 reply code %d" % cd)


def via_socks5(sock, host, port, args):
    methods = b"\x00\x02" if args.user is not None else b"\x00"
    sock.sendall(bytes([5, len(methods)]) + methods)
    ver, method = recv_exact(sock, 2)
    if ver != 5:
        raise ValueError("bad SOCKS5 version %d" % ver)
    if method == 0xFF:
        raise Refused("SOCKS5 auth required (no acceptable method)")
    if method == 2:
        if args.user is None:
            raise Refused("SOCKS5 auth required")
        u, p = args.user.encode(), (args.password or "").encode()
        sock.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
        _, status = recv_exact(sock, 2)
        if status != 0:
            raise Refused("SOCKS5 username/password rejected (status %d)" % status)
    elif method != 0:
        raise ValueError("SOCKS5 method %d not offered" % method)
    sock.sendall(struct.pack("!BBBB4sH", 5, 1, 0, 1, socket.inet_aton(host), port))
    ver, rep, _, atyp = recv_exact(sock, 4)
    if ver != 5:
        raise ValueError("bad SOCKS5 reply version %d" % ver)
    skip = {1: 4, 4: 16}.get(atyp)
    if skip is None and atyp == 3:
        skip = recv_exact(sock, 1)[0]
    if skip is None:
        raise ValueError("bad SOCKS5 address type %d" % atyp)
    recv_exact(sock, skip + 2)
    if rep != 0:
        raise Refused("SOCKS5 reply code %d" % rep)


def split_hostport(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--proto", choices=["http", "socks4", "socks5"], required=True)
    p.add_argument("--proxy", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--timeout", type=float, default=5.0)
    args = p.parse_args()
    host, port = split_hostport(args.target)
    ip = ipaddress.ip_address(host)
    if not (ip.is_loopback or ip.is_unspecified):
        sys.exit("tunnel_probe: refusing non-loopback target %s" % host)
    try:
        with socket.create_connection(split_hostport(args.proxy), args.timeout) as sock:
            {"http": via_http, "socks4": via_socks4, "socks5": via_socks5}[args.proto](
                sock, host, port, args)
            print(recv_line(sock))
    except Refused as e:
        print("refused: %s" % e)
        sys.exit(2)
    except (OSError, ValueError) as e:
        print("error: %s" % e)
        sys.exit(1)


if __name__ == "__main__":
    main()
