#!/usr/bin/env python3
"""Talks to a running plughole-lab and checks every proxy behaviour (used by tests/it/lab_proxy.sh).

    check_lab_proxy.py --port P --port2 Q --latency-port L --sink 127.0.44.1:S --sink-dir DIR
                       --web-port W --truth FILE --lib tests/it/lib

Runs its own TCP targets: 127.0.44.2:W (the lab's --web-port) and [::1]:any
send "220 target NONCE" to a client that stays quiet and answer an HTTP
request with a page carrying the nonce; 127.0.44.3:any holds what it is sent
until told to read (backpressure). Mail goes to the test's smtp_sink.py at
--sink. Every address is on the loopback; the lab is asked for 0.0.0.0 to
see it refuse what lies outside 127.0.0.0/8. Exits non-zero on failures.
"""
import argparse
import glob
import hashlib
import os
import re
import secrets
import socket
import struct
import subprocess
import sys
import threading
import time

ARGS = None
FAILURES = []
TARGET_ADDR = "127.0.44.2"
HOLD_ADDR = "127.0.44.3"
SOFTWARE_MARK = {"Squid": "squid", "Apache mod_proxy": "Apache", "tinyproxy": "tinyproxy",
                 "Privoxy": "Privoxy", "CCProxy": "CCProxy", "MikroTik": "Mikrotik", "3proxy": "3proxy"}


def fail(what):
    FAILURES.append(what)
    print("FAIL: " + what, file=sys.stderr, flush=True)


def check(cond, what):
    if not cond:
        fail(what)
    return cond


def host(b, n=1):
    return "127.20.%d.%d" % (b, n)


B = {"http-connect-open": 15, "http-connect-443": 16, "http-post": 17, "http-get": 18, "socks4-open": 19,
     "socks5-open": 20, "socks5-auth": 21, "socks5-refuse": 22, "wingate": 23, "router": 24,
     "block-page": 25, "http-slow": 26, "proxy-garbage": 27, "proxy-silent": 28}


# ---- the targets ----------------------------------------------------------------------

class Target:
    """Banner with a nonce for a quiet client, a page with the nonce for an HTTP request."""

    def __init__(self, family, addr, port):
        self.nonces = {}  # nonce -> (peer address, first request line or None)
        self.lock = threading.Lock()
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, peer = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(c, peer), daemon=True).start()

    def session(self, c, peer):
        nonce = secrets.token_hex(8)
        try:
            c.settimeout(0.3)
            data = b""
            try:
                data = c.recv(4096)
            except socket.timeout:
                pass
            c.settimeout(5)
            if re.match(rb"(GET|POST|HEAD) ", data):
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                with self.lock:
                    self.nonces[nonce] = (peer[0], data.decode("latin-1"))
                body = "<html><body>target %s</body></html>\r\n" % nonce
                c.sendall(("HTTP/1.0 200 OK\r\nServer: lab-target\r\nContent-Type: text/html\r\n"
                           "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
                c.shutdown(socket.SHUT_WR)
                c.recv(100)
                return
            with self.lock:
                self.nonces[nonce] = (peer[0], None)
            c.sendall(("220 target %s\r\n" % nonce).encode())
            while True:  # QUIT ends it; anything else is answered, so tunnels can be exercised
                line = c.recv(4096)
                if not line or line.upper().startswith(b"QUIT"):
                    break
                c.sendall(b"250 target " + nonce.encode() + b"\r\n")
        except OSError:
            pass
        finally:
            c.close()

    def seen(self, nonce):
        with self.lock:
            return self.nonces.get(nonce)


class Hold:
    """Accepts one connection at a time, reads nothing until released, then hashes everything."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind((HOLD_ADDR, 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.release = threading.Event()
        self.result = None
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        c, _ = self.sock.accept()
        self.release.wait(30)
        h, n = hashlib.sha256(), 0
        c.settimeout(10)
        try:
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
            # The other direction: a pattern the client checks after the upload.
            c.sendall(PATTERN)
        except OSError:
            pass
        self.result = (n, h.hexdigest())
        c.close()


PATTERN = bytes(range(256)) * 4096  # 1 MiB


# ---- clients ------------------------------------------------------------------------------

class Peer:
    """A client connection with a read buffer: prompts end without a newline, replies may come together."""

    def __init__(self, addr, port=None, timeout=5):
        self.s = socket.create_connection((addr, port or ARGS.port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def until(self, marker, limit=65536):
        """Up to and including marker; what came when the peer closed or the limit was reached."""
        while marker not in self.buf and len(self.buf) < limit:
            chunk = self.s.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        i = self.buf.find(marker)
        cut = len(self.buf) if i < 0 else i + len(marker)
        out, self.buf = self.buf[:cut], self.buf[cut:]
        return out

    def exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(n - len(self.buf))
            if not chunk:
                break
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def line(self):
        return self.until(b"\n")

    def rest(self):
        """Everything until the peer closes (True) or the timeout (False)."""
        data, self.buf = self.buf, b""
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return data, True
                data += chunk
        except socket.timeout:
            return data, False

    def close(self):
        self.s.close()


def http_request(addr, text, port=None):
    """Sends a raw request; returns (status line, headers, body, eof seen, everything)."""
    c = Peer(addr, port)
    c.send(text)
    data, eof = c.rest()
    c.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return lines[0], "\r\n".join(lines[1:]), body, eof, data


def http_connect(addr, dest, port=None):
    """CONNECT; returns (peer, status line, headers)."""
    c = Peer(addr, port)
    c.send(("CONNECT %s HTTP/1.0\r\n\r\n" % dest).encode())
    head = c.until(b"\r\n\r\n").decode("latin-1")
    status, _, rest = head.partition("\r\n")
    return c, status, rest


def banner_nonce(line):
    m = re.match(rb"220 target ([0-9a-f]{16})\r\n", line)
    return m.group(1).decode() if m else None


def smtp_dialogue(c, rcpt, tag):
    """An SMTP conversation through a tunnel; returns the reply codes seen."""
    codes = []

    def reply():
        while True:
            line = c.line()
            if len(line) < 4 or line[3:4] != b"-":
                return line[:3]

    codes.append(reply())
    for cmd in [b"EHLO client.test", b"MAIL FROM:<tester@client.test>", b"RCPT TO:<%s>" % rcpt.encode(),
                b"DATA"]:
        c.send(cmd + b"\r\n")
        codes.append(reply())
    c.send(b"Subject: " + tag.encode() + b"\r\n\r\n" + tag.encode() + b"\r\n.\r\n")
    codes.append(reply())
    c.send(b"QUIT\r\n")
    codes.append(reply())
    return codes


def sink_message(rcpt, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in glob.glob(os.path.join(ARGS.sink_dir, "msg-*.eml")):
            with open(path, "rb") as f:
                m = f.read().decode("latin-1")
            if ("X-Sink-Rcpt-To: <%s>\r\n" % rcpt) in m:
                return m
        time.sleep(0.05)
    return None


def check_mail(rcpt, exit_addr, what):
    m = sink_message(rcpt)
    if check(m is not None, "%s: the message for <%s> reached the sink" % (what, rcpt)):
        check(("X-Sink-Peer: %s:" % exit_addr) in m,
              "%s: the sink saw the proxy's own address %s" % (what, exit_addr))


def no_mail(rcpt, what):
    check(sink_message(rcpt, timeout=0.5) is None, "%s: nothing reached the sink for <%s>" % (what, rcpt))


def curl(*args, timeout=10):
    r = subprocess.run(["curl", "-s", "-S", "-m", "8"] + list(args), capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode("latin-1"), r.stderr.decode("latin-1")


def curl_mail(proxy_args, url, rcpt, tag):
    path = os.path.join(ARGS.sink_dir, "..", "mail-%s.txt" % tag)
    with open(path, "w") as f:
        f.write("Subject: %s\r\n\r\n%s\r\n" % (tag, tag))
    return curl(*proxy_args, url, "--mail-from", "tester@client.test", "--mail-rcpt", rcpt, "-T", path)


def sink_url(name=None):
    return "smtp://%s:%d" % (name or ARGS.sink_addr, ARGS.sink_port)


def page_nonce(text):
    m = re.search(r"target ([0-9a-f]{16})", text)
    return m.group(1) if m else None


def truth_software(addr):
    return TRUTH.get(addr, (None, None, None))[2]


def check_server_header(headers, addr, what, server=True):
    soft = truth_software(addr)
    mark = SOFTWARE_MARK.get(soft)
    check(mark is not None and (not server or re.search(r"^Server: .*%s" % re.escape(mark), headers, re.M | re.I))
          and re.search(r"^Via: 1\.\d %s\.lab\.test \(.*%s" % (re.escape(addr), re.escape(mark)), headers,
                        re.M | re.I),
          "%s: Server: and Via: name %s as --truth says (%r)" % (what, soft, headers))


def tunnel_probe(proto, proxy, target, *extra):
    r = subprocess.run([sys.executable, os.path.join(ARGS.lib, "tunnel_probe.py"), "--proto", proto,
                        "--proxy", proxy, "--target", target] + list(extra), capture_output=True, timeout=15)
    return r.returncode, r.stdout.decode("latin-1").strip()


# ---- the behaviours ---------------------------------------------------------------------

def test_connect_open():
    a = host(B["http-connect-open"])
    for port in (ARGS.port, ARGS.port2):
        rc, out, err = curl_mail(["-p", "-x", "http://%s:%d" % (a, port)], sink_url(), "connect%d@sink.test" % port,
                                 "connect%d" % port)
        check(rc == 0, "http-connect-open: curl sends mail through CONNECT on port %d (%d %s)" % (port, rc, err))
        check_mail("connect%d@sink.test" % port, a, "http-connect-open port %d" % port)
    rc, out, err = curl("-p", "-x", "http://%s:%d" % (a, ARGS.port), "http://%s:%d/x" % (TARGET_ADDR, ARGS.web_port))
    n = page_nonce(out)
    check(rc == 0 and n is not None and TARGET.seen(n) is not None,
          "http-connect-open: curl reaches the web target's page (%d %r %s)" % (rc, out, err))
    if n is not None and TARGET.seen(n):
        check(TARGET.seen(n)[0] == a, "http-connect-open: the target saw the proxy's own address")
    s, status, headers = http_connect(a, "%s:%d" % (TARGET_ADDR, ARGS.web_port))
    check(status == "HTTP/1.0 200 Connection established", "http-connect-open: status %r" % status)
    check_server_header(headers, a, "http-connect-open")
    n = banner_nonce(s.line())
    check(n is not None and TARGET.seen(n) is not None, "http-connect-open: the tunnel brings the target's banner")
    s.send(b"NOOP\r\n")
    check(s.line() == b"250 target %s\r\n" % (n or "").encode(), "http-connect-open: the tunnel goes both ways")
    s.close()
    # Names: localhost resolves to the sink; IPv6 ::1 is allowed.
    s, status, _ = http_connect(a, "localhost:%d" % ARGS.sink_port)
    check(status.startswith("HTTP/1.0 200") and s.line().startswith(b"220 "),
          "http-connect-open: localhost is the sink (%r)" % status)
    s.close()
    s, status, _ = http_connect(a, "[::1]:%d" % TARGET6.port)
    check(status.startswith("HTTP/1.0 200") and banner_nonce(s.line()) is not None,
          "http-connect-open: [::1] tunnels (%r)" % status)
    s.close()
    for dest, want in [("0.0.0.0:25", "403"), ("[::2]:25", "403"), ("example.com:25", "503"),
                       ("127.0.44.9:1", "502"), ("127.0.44.2", "400")]:
        s, status, _ = http_connect(a, dest)
        s.close()
        check(status.split(" ")[1:2] == [want], "http-connect-open: CONNECT %s is %s (%r)" % (dest, want, status))
    line, headers, body, eof, _ = http_request(a, b"GET http://127.0.44.2/ HTTP/1.0\r\n\r\n")
    check(line.startswith("HTTP/1.0 405") and "Allow: CONNECT" in headers and eof,
          "http-connect-open: GET is 405 (%r)" % line)
    rc, out = tunnel_probe("http", "%s:%d" % (a, ARGS.port2), "%s:%d" % (TARGET_ADDR, ARGS.web_port))
    check(rc == 0 and banner_nonce((out + "\r\n").encode()) is not None, "http-connect-open: tunnel_probe (%r)" % out)


def test_connect_443():
    a = host(B["http-connect-443"])
    s, status, headers = http_connect(a, "%s:%d" % (TARGET_ADDR, ARGS.web_port))
    check(status == "HTTP/1.0 200 Connection established" and banner_nonce(s.line()) is not None,
          "http-connect-443: CONNECT to --web-port tunnels (%r)" % status)
    check_server_header(headers, a, "http-connect-443")
    s.close()
    s, status, _ = http_connect(a, "%s:%d" % (ARGS.sink_addr, ARGS.sink_port))
    s.close()
    check(status.startswith("HTTP/1.0 403 Forbidden"), "http-connect-443: CONNECT to the SMTP port is 403 (%r)" % status)
    rc, _, _ = curl_mail(["-p", "-x", "http://%s:%d" % (a, ARGS.port)], sink_url(), "c443@sink.test", "c443")
    check(rc != 0, "http-connect-443: curl cannot send mail")
    rc, out, _ = curl("-p", "-x", "http://%s:%d" % (a, ARGS.port), "http://%s:%d/x" % (TARGET_ADDR, ARGS.web_port))
    check(rc == 0 and page_nonce(out) is not None, "http-connect-443: curl reaches the web target")
    no_mail("c443@sink.test", "http-connect-443")


SMTP_BODY = ("HELO client.test\r\nMAIL FROM:<tester@client.test>\r\nRCPT TO:<%s>\r\nDATA\r\n"
             "Subject: %s\r\n\r\n%s\r\n.\r\nQUIT\r\n")


def test_post():
    a = host(B["http-post"])
    body = (SMTP_BODY % ("post@sink.test", "post", "post")).encode()
    req = (b"POST http://%s:%d/ HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
           % (ARGS.sink_addr.encode(), ARGS.sink_port, len(body))) + body + b"TRAILING JUNK NOT FORWARDED\r\n"
    line, _, _, eof, answer = http_request(a, req)
    check(line.startswith("220 ") and b"\r\n221 " in answer and eof,
          "http-post: the sink's SMTP answers come back (%r ...)" % line)
    check_mail("post@sink.test", a, "http-post")
    # curl's POST with an SMTP conversation in the body: the classic spam vector.
    path = os.path.join(ARGS.sink_dir, "..", "post-body.txt")
    with open(path, "w") as f:
        f.write(SMTP_BODY % ("curlpost@sink.test", "curlpost", "curlpost"))
    # --http0.9: curl reads the SMTP answer to the end instead of hanging up (which ends the forward too).
    curl("-x", "http://%s:%d" % (a, ARGS.port2), "--http0.9", "--data-binary", "@" + path, "-H", "Expect:",
         "http://%s:%d/" % (ARGS.sink_addr, ARGS.sink_port))
    check_mail("curlpost@sink.test", a, "http-post (curl)")
    # To the web target: the answer is relayed as it came.
    rc, out, err = curl("-x", "http://%s:%d" % (a, ARGS.port), "-d", "x=1",
                        "http://%s:%d/form" % (TARGET_ADDR, ARGS.web_port))
    n = page_nonce(out)
    check(rc == 0 and n is not None, "http-post: a POST to the web target gets its page (%d %r)" % (rc, out))
    if n is not None and TARGET.seen(n):
        check(TARGET.seen(n)[1].startswith("POST http://%s:%d/form HTTP/1.1\r\n" % (TARGET_ADDR, ARGS.web_port)),
              "http-post: the request line went on as it came (%r)" % TARGET.seen(n)[1][:80])
    for req, want in [(b"GET http://127.0.44.2/ HTTP/1.0\r\n\r\n", "405"),
                      (b"POST http://127.0.44.2/ HTTP/1.0\r\n\r\n", "411"),
                      (b"POST http://127.0.44.2/ HTTP/1.0\r\nContent-Length: 100000\r\n\r\n", "413"),
                      (b"POST http://0.0.0.0:25/ HTTP/1.0\r\nContent-Length: 0\r\n\r\n", "403"),
                      (b"POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n", "400")]:
        line, headers, _, _, _ = http_request(a, req)
        check(line.split(" ")[1:2] == [want], "http-post: %r is %s (%r)" % (req[:40], want, line))


def test_get():
    a = host(B["http-get"])
    rc, out, err = curl("-i", "-x", "http://%s:%d" % (a, ARGS.port), "http://%s:%d/page?q=1" % (TARGET_ADDR,
                                                                                                   ARGS.web_port))
    n = page_nonce(out)
    check(rc == 0 and out.startswith("HTTP/1.0 200 OK\r\n") and n is not None,
          "http-get: curl gets the target's page (%d %r)" % (rc, out[:200]))
    check_server_header(out, a, "http-get", server=False)  # the origin's Server:, the proxy's Via:
    seen = TARGET.seen(n) if n else None
    if check(seen is not None, "http-get: the target saw the request"):
        check(seen[0] == a and seen[1].startswith("GET /page?q=1 HTTP/1.0\r\n") and
              re.search(r"^Via: 1\.1 %s\.lab\.test " % re.escape(a), seen[1], re.M) and
              "Proxy-Connection" not in seen[1],
              "http-get: HTTP/1.0 in origin form with Via:, from the proxy's address (%r)" % (seen,))
    line, _, _, _, _ = http_request(a, b"GET http://%s:%d/ HTTP/1.0\r\n\r\n" % (ARGS.sink_addr.encode(), ARGS.sink_port))
    check(line.startswith("HTTP/1.0 502"), "http-get: an SMTP answer is no HTTP response: 502 (%r)" % line)
    line, _, _, _, _ = http_request(a, b"GET http://[::1]:%d/v6 HTTP/1.0\r\n\r\n" % TARGET6.port)
    check(line.startswith("HTTP/1.0 200"), "http-get: GET to [::1] (%r)" % line)
    for req, want in [(b"POST http://127.0.44.2/ HTTP/1.0\r\nContent-Length: 0\r\n\r\n", "405"),
                      (b"CONNECT 127.0.44.2:443 HTTP/1.0\r\n\r\n", "405"),
                      (b"GET http://0.0.0.0/ HTTP/1.0\r\n\r\n", "403"),
                      (b"GET http://www.example.com/ HTTP/1.0\r\n\r\n", "503"),
                      (b"GET https://127.0.44.2/ HTTP/1.0\r\n\r\n", "400"),
                      (b"GET http://127.0.44.2/ HTTP/2.0\r\n\r\n", "400"),
                      (b"GET http://127.0.44.2/" + b"a" * 9000 + b" HTTP/1.0\r\n\r\n", "431")]:
        line, headers, _, eof, _ = http_request(a, req)
        check(line.split(" ")[1:2] == [want] and eof, "http-get: %r is %s (%r)" % (req[:40], want, line))
    rc, _, _ = curl("-p", "-x", "http://%s:%d" % (a, ARGS.port), "http://%s:%d/" % (TARGET_ADDR, ARGS.web_port))
    check(rc != 0, "http-get: curl cannot CONNECT")


def socks5_hello(s, methods=b"\x00"):
    s.send(bytes([5, len(methods)]) + methods)
    return s.exact(2)


def socks5_request(s, atyp, addr, port, cmd=1):
    s.send(bytes([5, cmd, 0, atyp]) + addr + struct.pack("!H", port))
    head = s.exact(4)
    if len(head) < 4:
        return None, None
    rest = s.exact({1: 4, 4: 16}.get(head[3], 0) + 2)
    return head[1], (head[3], rest)


def socks4_request(s, ip, port, name=None):
    msg = struct.pack("!BBH4s", 4, 1, port, socket.inet_aton(ip)) + b"user\0"
    if name is not None:
        msg += name.encode() + b"\0"
    s.send(msg)
    return s.exact(8)


def test_socks4():
    a = host(B["socks4-open"])
    rc, _, err = curl_mail(["--socks4", "%s:%d" % (a, ARGS.port)], sink_url(), "socks4@sink.test", "socks4")
    check(rc == 0, "socks4-open: curl --socks4 sends mail (%s)" % err)
    check_mail("socks4@sink.test", a, "socks4-open")
    rc, _, err = curl_mail(["--socks4a", "%s:%d" % (a, ARGS.port2)], sink_url("mx.sink.test"), "socks4a@sink.test",
                           "socks4a")
    check(rc == 0, "socks4-open: curl --socks4a with a name in the sink's domain (%s)" % err)
    check_mail("socks4a@sink.test", a, "socks4-open (4a)")
    s = Peer(a)
    reply = socks4_request(s, TARGET_ADDR, ARGS.web_port)
    check(reply[:2] == b"\x00\x5a" and reply[4:8] == socket.inet_aton(a),
          "socks4-open: granted, bound to the proxy's address (%r)" % reply)
    check(banner_nonce(s.line()) is not None, "socks4-open: the target's banner")
    s.close()
    for ip, name in [("0.0.0.0", None), ("0.0.0.1", "example.com"), ("127.0.44.9", None)]:
        s = Peer(a)
        port = 1 if ip == "127.0.44.9" else 25
        reply = socks4_request(s, ip, port, name)
        s.close()
        check(reply[:2] == b"\x00\x5b", "socks4-open: %s %s refused with 91 (%r)" % (ip, name, reply))
    s = Peer(a)
    s.send(b"\x05\x01\x00")
    data, eof = s.rest()
    s.close()
    check(data == b"" and eof, "socks4-open: a SOCKS5 greeting is dropped (%r)" % data)
    rc, out = tunnel_probe("socks4", "%s:%d" % (a, ARGS.port), "%s:%d" % (TARGET_ADDR, ARGS.web_port))
    check(rc == 0 and "220 target" in out, "socks4-open: tunnel_probe (%r)" % out)


def test_socks5():
    a = host(B["socks5-open"])
    rc, _, err = curl_mail(["--socks5", "%s:%d" % (a, ARGS.port)], sink_url(), "socks5@sink.test", "socks5")
    check(rc == 0, "socks5-open: curl --socks5 sends mail (%s)" % err)
    check_mail("socks5@sink.test", a, "socks5-open")
    rc, _, err = curl_mail(["--socks5-hostname", "%s:%d" % (a, ARGS.port2)], sink_url("mx.sink.test"),
                           "socks5h@sink.test", "socks5h")
    check(rc == 0, "socks5-open: curl --socks5-hostname (%s)" % err)
    check_mail("socks5h@sink.test", a, "socks5-open (name)")
    s = Peer(a)
    check(socks5_hello(s, b"\x02\x00") == b"\x05\x00", "socks5-open: no authentication chosen")
    rep, bound = socks5_request(s, 1, socket.inet_aton(TARGET_ADDR), ARGS.web_port)
    check(rep == 0 and bound == (1, socket.inet_aton(a) + bound[1][4:]),
          "socks5-open: IPv4 CONNECT succeeds, bound to the proxy's address (%r %r)" % (rep, bound))
    check(banner_nonce(s.line()) is not None, "socks5-open: the target's banner")
    s.close()
    s = Peer(a)
    socks5_hello(s)
    rep, bound = socks5_request(s, 4, socket.inet_pton(socket.AF_INET6, "::1"), TARGET6.port)
    check(rep == 0 and bound[0] == 4 and banner_nonce(s.line()) is not None,
          "socks5-open: IPv6 ::1 CONNECT (%r %r)" % (rep, bound))
    s.close()
    s = Peer(a)
    socks5_hello(s)
    rep, _ = socks5_request(s, 3, b"\x09localhost", ARGS.sink_port)
    check(rep == 0 and s.line().startswith(b"220 "), "socks5-open: the name localhost is the sink")
    s.close()
    cases = [(1, socket.inet_aton("0.0.0.0"), 25, 1, 2), (4, socket.inet_pton(socket.AF_INET6, "::2"), 25, 1, 2),
             (4, socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.1"), 25, 1, 2),
             (3, b"\x0bexample.com", 25, 1, 4), (1, socket.inet_aton("127.0.44.9"), 1, 1, 5),
             (1, socket.inet_aton(TARGET_ADDR), ARGS.web_port, 2, 7)]
    for atyp, addr, port, cmd, want in cases:
        s = Peer(a)
        socks5_hello(s)
        rep, _ = socks5_request(s, atyp, addr, port, cmd)
        s.close()
        check(rep == want, "socks5-open: atyp %d %r cmd %d is reply %d (got %r)" % (atyp, addr, cmd, want, rep))
    s = Peer(a)
    check(socks5_hello(s, b"\x02") == b"\x05\xff", "socks5-open: no acceptable method without 0")
    s.close()
    s = Peer(a)  # pipelined greeting and request: both answered in order
    s.send(b"\x05\x01\x00" + b"\x05\x01\x00\x01" + socket.inet_aton(TARGET_ADDR) + struct.pack("!H", ARGS.web_port))
    check(s.exact(2) == b"\x05\x00" and s.exact(10)[:2] == b"\x05\x00" and
          banner_nonce(s.line()) is not None, "socks5-open: pipelined greeting and request")
    s.close()
    rc, out = tunnel_probe("socks5", "%s:%d" % (a, ARGS.port), "%s:%d" % (TARGET_ADDR, ARGS.web_port))
    check(rc == 0 and "220 target" in out, "socks5-open: tunnel_probe (%r)" % out)


def test_socks5_auth():
    a = host(B["socks5-auth"])
    s = Peer(a)
    check(socks5_hello(s) == b"\x05\xff", "socks5-auth: no method without username/password")
    s.close()
    s = Peer(a)
    check(socks5_hello(s, b"\x00\x02") == b"\x05\x02", "socks5-auth: username/password chosen")
    s.send(b"\x01\x04user\x06secret")
    check(s.exact(2) == b"\x01\x01", "socks5-auth: every password fails")
    check(s.rest() == (b"", True), "socks5-auth: then the connection ends")
    s.close()
    rc, _, _ = curl_mail(["--socks5", "%s:%d" % (a, ARGS.port), "--proxy-user", "user:secret"], sink_url(),
                         "auth@sink.test", "auth")
    check(rc != 0, "socks5-auth: curl with --proxy-user fails")
    rc, _, _ = curl_mail(["--socks5", "%s:%d" % (a, ARGS.port)], sink_url(), "auth@sink.test", "auth")
    check(rc != 0, "socks5-auth: curl without a user fails")
    rc, out = tunnel_probe("socks5", "%s:%d" % (a, ARGS.port), "%s:%d" % (TARGET_ADDR, ARGS.web_port),
                           "--user", "u", "--password", "p")
    check(rc == 2 and "rejected" in out, "socks5-auth: tunnel_probe says refused (%r)" % out)
    no_mail("auth@sink.test", "socks5-auth")


def test_socks5_refuse():
    a = host(B["socks5-refuse"])
    s = Peer(a)
    check(socks5_hello(s) == b"\x05\x00", "socks5-refuse: accepts no authentication")
    rep, _ = socks5_request(s, 1, socket.inet_aton(ARGS.sink_addr), ARGS.sink_port)
    check(rep == 2, "socks5-refuse: CONNECT is reply 2, not allowed by ruleset (%r)" % rep)
    s.close()
    rc, _, _ = curl_mail(["--socks5", "%s:%d" % (a, ARGS.port)], sink_url(), "refuse@sink.test", "refuse")
    check(rc != 0, "socks5-refuse: curl fails")
    no_mail("refuse@sink.test", "socks5-refuse")


def test_wingate():
    a = host(B["wingate"])
    s = Peer(a)
    check(s.exact(8) == b"WinGate>", "wingate: the prompt")
    s.send(b"%s:%d\r\n" % (ARGS.sink_addr.encode(), ARGS.sink_port))
    line = s.until(b"\n")
    check(line == b"Connecting to host %s...Connected\r\n" % ARGS.sink_addr.encode(), "wingate: connected (%r)" % line)
    codes = smtp_dialogue(s, "wingate@sink.test", "wingate")
    s.close()
    check(codes == [b"220", b"250", b"250", b"250", b"354", b"250", b"221"], "wingate: SMTP through it (%r)" % codes)
    check_mail("wingate@sink.test", a, "wingate")
    s = Peer(a)
    s.exact(8)
    s.send(b"\r\n%s %d\r\n" % (TARGET_ADDR.encode(), ARGS.web_port))
    data = s.until(b"WinGate>") + s.until(b"Connected\r\n")
    check(data.endswith(b"Connected\r\n") and banner_nonce(s.line()) is not None,
          "wingate: HOST PORT form, after an empty line (%r)" % data)
    s.close()
    for line, want in [(b"0.0.0.0:25", b"Access denied"), (b"nosuch.example:25", b"lookup for 'nosuch.example' failed"),
                       (b"127.0.44.9:1", b"Connection refused")]:
        s = Peer(a)
        s.exact(8)
        s.send(line + b"\r\n")
        data, eof = s.rest()
        s.close()
        check(want in data and eof, "wingate: %r gives %r and the end (%r)" % (line, want, data))


def test_router():
    a = host(B["router"])
    s = Peer(a)
    check(s.until(b"Password: ") == b"User Access Verification\r\n\r\nPassword: ", "router: the login prompt")
    s.send(b"guess\r\n")
    check(s.until(b"Password: ").endswith(b"\r\nPassword: "), "router: a wrong password asks again")
    s.send(b"cisco\r\n")
    check(s.until(b"router>").endswith(b"router>"), "router: cisco gives the prompt")
    s.send(b"show version\r\n")
    check(s.until(b"router>") == b"% Unknown command\r\nrouter>", "router: unknown commands")
    s.send(b"telnet 0.0.0.0 25\r\n")
    data = s.until(b"router>")
    check(b"% Destination unreachable" in data, "router: 0.0.0.0 is unreachable (%r)" % data)
    s.send(b"telnet 127.0.44.9 1\r\n")
    data = s.until(b"router>")
    check(b"% Connection refused by remote host" in data, "router: a closed port, back to the prompt (%r)" % data)
    s.send(b"telnet %s %d\r\n" % (ARGS.sink_addr.encode(), ARGS.sink_port))
    data = s.until(b"Open\r\n")
    check(data == b"Trying %s, %d ... Open\r\n" % (ARGS.sink_addr.encode(), ARGS.sink_port), "router: open (%r)" % data)
    codes = smtp_dialogue(s, "router@sink.test", "router")
    s.close()
    check(codes[-3:] == [b"354", b"250", b"221"], "router: SMTP through telnet (%r)" % codes)
    check_mail("router@sink.test", a, "router")
    s = Peer(a)
    s.send(b"a\r\nb\r\nc\r\n")
    data, eof = s.rest()
    s.close()
    check(data.endswith(b"% Bad passwords\r\n") and eof, "router: three wrong passwords end it (%r)" % data)


def test_block_page():
    a = host(B["block-page"])
    rc, out, _ = curl("-i", "-x", "http://%s:%d" % (a, ARGS.port), "http://%s:%d/" % (TARGET_ADDR, ARGS.web_port))
    check(rc == 0 and out.startswith("HTTP/1.0 200 OK\r\n") and "blocked" in out and page_nonce(out) is None,
          "block-page: GET is 200 with a block page, no nonce (%r)" % out[:100])
    for req in [b"CONNECT %s:%d HTTP/1.0\r\n\r\n" % (TARGET_ADDR.encode(), ARGS.web_port),
                b"POST http://%s:%d/ HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello" % (TARGET_ADDR.encode(), ARGS.web_port)]:
        line, headers, body, eof, _ = http_request(a, req)
        check(line == "HTTP/1.0 200 OK" and b"blocked" in body and page_nonce(body.decode()) is None and eof,
              "block-page: %r is 200 with a block page, then the end (%r)" % (req[:8], line))
        check_server_header(headers, a, "block-page")
    c = Peer(a)  # a client that half-closes after its request still gets the page
    c.send(b"GET http://%s/ HTTP/1.0\r\n\r\n" % TARGET_ADDR.encode())
    c.s.shutdown(socket.SHUT_WR)
    data, eof = c.rest()
    c.close()
    check(data.startswith(b"HTTP/1.0 200 OK\r\n") and data.endswith(b"</html>\r\n") and eof,
          "block-page: the page reaches a client that half-closed (%r)" % data[:40])


def test_slow():
    s = Peer(host(B["http-slow"]), timeout=3)
    s.send(b"CONNECT 127.0.44.2:443 HTTP/1.0\r\n\r\n")
    got, start = b"", time.time()
    try:
        while time.time() - start < 2.5:
            got += s.s.recv(10)
    except socket.timeout:
        pass
    s.close()
    check(1 <= len(got) <= 3 and b"HTTP/1.0 200"[:len(got)] == got, "http-slow: a byte a second (%r)" % got)


def test_garbage():
    s = Peer(host(B["proxy-garbage"]), timeout=1)
    try:
        early = s.s.recv(10)
    except socket.timeout:
        early = b""
    check(early == b"", "proxy-garbage: waits for the request (%r)" % early)
    s.s.settimeout(3)
    s.send(b"CONNECT 127.0.44.2:443 HTTP/1.0\r\n\r\n")
    data, eof = s.rest()
    s.close()
    check(eof and len(data) >= 100 and 0x80 <= data[0] < 0xff,
          "proxy-garbage: junk, then the end (%d bytes, eof %s)" % (len(data), eof))


def test_silent():
    s = Peer(host(B["proxy-silent"]), timeout=1.5)
    s.send(b"\x05\x01\x00")
    try:
        data = s.s.recv(10)
        fail("proxy-silent: answered %r" % data)
    except socket.timeout:
        pass
    s.close()


def test_backpressure():
    """64 MiB cannot be pushed through a tunnel to a target that does not read; all of it arrives later."""
    hold = Hold()
    a = host(B["http-connect-open"], 7)
    c, status, _ = http_connect(a, "%s:%d" % (HOLD_ADDR, hold.port))
    check(status.startswith("HTTP/1.0 200"), "backpressure: tunnel to the holding target (%r)" % status)
    s = c.s
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    block = hashlib.sha256(b"block").digest() * 2048  # 64 KiB
    h, sent = hashlib.sha256(), 0
    s.settimeout(0.5)
    try:
        while sent < 64 << 20:
            n = s.send(block)
            h.update(block[:n])
            sent += n
    except socket.timeout:
        pass
    check(sent < 64 << 20, "backpressure: the client is held back (%d bytes taken)" % sent)
    hold.release.set()
    s.settimeout(10)
    more = block * ((2 << 20) // len(block))
    s.sendall(more)
    h.update(more)
    sent += len(more)
    s.shutdown(socket.SHUT_WR)  # the half-close reaches the target once everything is out
    back, _ = c.rest()
    c.close()
    check(hold.result == (sent, h.hexdigest()),
          "backpressure: every byte arrived in order (%r, sent %d)" % (hold.result and hold.result[0], sent))
    check(back == PATTERN, "backpressure: 1 MiB back to the client after the half-close (%d bytes)" % len(back))


def test_many_tunnels():
    socks = []
    for i in range(300):
        a = host(B["socks5-open"], 100 + i % 100)
        s = Peer(a)
        s.send(b"\x05\x01\x00\x05\x01\x00\x01" + socket.inet_aton(TARGET_ADDR) + struct.pack("!H", ARGS.web_port))
        socks.append(s)
    ok = 0
    for s in socks:
        data = s.exact(12)
        ok += data[:4] == b"\x05\x00\x05\x00" and banner_nonce(s.line()) is not None
        s.close()
    check(ok == 300, "many tunnels: 300 at once, each got its own banner (%d)" % ok)


# libevent's timers run on CLOCK_MONOTONIC_COARSE (a few ms a tick): a 300 ms hold may end a tick early.
HELD = 0.29


def test_latency():
    a = host(B["http-connect-open"])
    start = time.time()
    s, status, _ = http_connect(a, "%s:%d" % (TARGET_ADDR, ARGS.web_port), port=ARGS.latency_port)
    took = time.time() - start
    check(status.startswith("HTTP/1.0 200") and took >= HELD and banner_nonce(s.line()) is not None,
          "latency: CONNECT answered after 300 ms (%.2f)" % took)
    s.close()
    s = Peer(host(B["socks5-open"]), ARGS.latency_port)
    start = time.time()
    hello = socks5_hello(s)
    t1 = time.time() - start
    start = time.time()
    rep, _ = socks5_request(s, 1, socket.inet_aton(TARGET_ADDR), ARGS.web_port)
    t2 = time.time() - start
    s.close()
    check(hello == b"\x05\x00" and rep == 0 and t1 >= HELD and t2 >= HELD,
          "latency: each SOCKS5 reply after 300 ms (%.3f, %.3f)" % (t1, t2))
    start = time.time()
    s = Peer(host(B["wingate"]), ARGS.latency_port)
    prompt = s.exact(8)
    took = time.time() - start
    s.close()
    check(prompt == b"WinGate>" and took >= HELD, "latency: the WinGate prompt is held (%r after %.3f s)" % (prompt, took))
    start = time.time()
    line, _, _, _, _ = http_request(host(B["http-get"]), b"GET http://%s:%d/ HTTP/1.0\r\n\r\n"
                                 % (TARGET_ADDR.encode(), ARGS.web_port), port=ARGS.latency_port)
    check(line.startswith("HTTP/1.0 200") and time.time() - start >= HELD,
          "latency: a GET forward's answer is held 300 ms")
    # --idle-timeout 2 there: a client that never sends its request is dropped.
    s = Peer(host(B["http-get"]), ARGS.latency_port)
    start = time.time()
    data, eof = s.rest()
    s.close()
    check(eof and data == b"" and 1.5 < time.time() - start < 4.5, "idle timeout: a silent client is dropped")


TRUTH = {}


def main():
    global ARGS, TARGET, TARGET6
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--port2", type=int, required=True)
    p.add_argument("--latency-port", type=int, required=True)
    p.add_argument("--sink", required=True)
    p.add_argument("--sink-dir", required=True)
    p.add_argument("--web-port", type=int, required=True)
    p.add_argument("--truth", required=True)
    p.add_argument("--lib", required=True)
    p.add_argument("--only", help="comma-separated test names")
    ARGS = p.parse_args()
    ARGS.sink_addr, _, port = ARGS.sink.rpartition(":")
    ARGS.sink_port = int(port)
    for line in open(ARGS.truth):
        addr, behaviour, verdict, software = line.rstrip("\n").split("\t")
        TRUTH[addr] = (behaviour, verdict, software)
    TARGET = Target(socket.AF_INET, TARGET_ADDR, ARGS.web_port)
    TARGET6 = Target(socket.AF_INET6, "::1", 0)
    tests = [test_connect_open, test_connect_443, test_post, test_get, test_socks4, test_socks5, test_socks5_auth,
             test_socks5_refuse, test_wingate, test_router, test_block_page, test_slow, test_garbage, test_silent,
             test_backpressure, test_many_tunnels, test_latency]
    if ARGS.only:
        tests = [t for t in tests if t.__name__ in ARGS.only.split(",")]
    for t in tests:
        start = time.time()
        try:
            t()
        except Exception as e:  # a crash in one check is a failure, not the end of the run
            fail("%s: %r" % (t.__name__, e))
        print("%-24s %.2fs" % (t.__name__, time.time() - start), flush=True)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES), file=sys.stderr)
        return 1
    print("all lab proxy checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
