#!/usr/bin/env python3
"""Serve a directory over HTTP on one address, without any DNS lookup.

    http_server.py --listen 127.0.12.2:8080 --dir DIR

python3 -m http.server would do: but its server_bind() asks getfqdn() for the
listening address, a reverse DNS query that a test peer must never send.
"""
import argparse
import functools
import http.server
import socketserver


class QuietServer(http.server.ThreadingHTTPServer):
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", required=True, help="ADDR:PORT")
    p.add_argument("--dir", required=True)
    args = p.parse_args()
    host, _, port = args.listen.rpartition(":")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=args.dir)
    with QuietServer((host, int(port)), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
