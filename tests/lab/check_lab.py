#!/usr/bin/env python3
"""Talks to a running plughole-lab and checks every behaviour (used by tests/it/lab.sh).

    check_lab.py --port P --latency-port Q --sink-dir DIR --forward-log FILE
                 --truth FILE --client 127.0.40.2

Every connection goes to a 127.x address; the sink the lab delivers to is the
test's own smtp_sink.py. Exits non-zero with a message on the first failure.
"""
import argparse
import glob
import os
import re
import smtplib
import socket
import ssl
import sys
import time

ARGS = None
FAILURES = []


def fail(what):
    FAILURES.append(what)
    print("FAIL: " + what, file=sys.stderr, flush=True)


def check(cond, what):
    if not cond:
        fail(what)
    return cond


def host(b, n):
    return "127.20.%d.%d" % (b, n)


def smtp(addr, port=None, timeout=5):
    s = smtplib.SMTP(timeout=timeout, local_hostname="client.test",
                     source_address=(ARGS.client, 0))
    s._host = addr  # smtplib names the TLS peer after the host given to __init__ only
    code, msg = s.connect(addr, port or ARGS.port)
    if code != 220:
        raise smtplib.SMTPConnectError(code, msg)
    return s


def raw(addr, timeout=3):
    s = socket.create_connection((addr, ARGS.port), timeout=timeout,
                                 source_address=(ARGS.client, 0))
    return s


def relay(s, rcpt, body_tag):
    """One transaction for one recipient; returns (rcpt code, data code or None)."""
    s.rset()
    code, _ = s.mail("tester@client.test")
    if code != 250:
        return code, None
    code, _ = s.docmd("RCPT", "TO:<%s>" % rcpt)
    if code != 250:
        return code, None
    code, _ = s.data(("Subject: %s\r\n\r\n%s\r\n" % (body_tag, body_tag)).encode())
    return 250, code


def sink_messages():
    out = []
    for path in glob.glob(os.path.join(ARGS.sink_dir, "msg-*.eml")):
        with open(path, "rb") as f:
            out.append(f.read().decode("latin-1"))
    return out


def wait_for_message(rcpt, timeout=5):
    """The stored message whose envelope has exactly this recipient, or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in sink_messages():
            if ("X-Sink-Rcpt-To: <%s>\r\n" % rcpt) in m:
                return m
        time.sleep(0.05)
    return None


def check_forwarded(rcpt, relay_addr, what):
    m = wait_for_message(rcpt)
    if not check(m is not None, "%s: nothing arrived at the sink for <%s>" % (what, rcpt)):
        return
    check(("X-Sink-Peer: %s:" % relay_addr) in m, "%s: delivered from the relay's own address" % what)
    check(re.search(r"^Received: from client\.test \(client\.test \[%s\]\)\r\n\tby %s\.lab\.test "
                    % (re.escape(ARGS.client), re.escape(relay_addr)), m, re.M) is not None,
          "%s: a Received: line naming the client and the relay" % what)


# ---- the behaviours -------------------------------------------------------

def test_open():
    a = host(1, 1)
    s = smtp(a)
    code, _ = s.ehlo()
    check(code == 250, "open: EHLO")
    forms = [
        ("plain@sink.test", "plain@sink.test"),
        ("percent%%sink.test@%s.lab.test" % a, "percent@sink.test"),
        ("sink.test!bang@[%s]" % a, "bang@sink.test"),
        ("@%s.lab.test:route@sink.test" % a, "route@sink.test"),
        ('"quoted@sink.test"@%s.lab.test' % a, "quoted@sink.test"),
        ("literal@[127.0.40.1]", "literal@[127.0.40.1]"),
        ("double@sink.test@%s.lab.test" % a, "double@sink.test"),
    ]
    for given, expected in forms:
        rc, dc = relay(s, given, "open " + given)
        check(rc == 250 and dc == 250, "open: <%s> accepted (%s, %s)" % (given, rc, dc))
    rc, dc = relay(s, "postmaster@%s.lab.test" % a, "open local")
    check(rc == 250 and dc == 250, "open: its own domain is accepted")
    rc, dc = relay(s, "other@elsewhere.test", "open elsewhere")
    check(rc == 250 and dc == 250, "open: another domain is accepted")
    s.quit()
    for given, expected in forms:
        check_forwarded(expected, a, "open <%s>" % given)
    log = open(ARGS.forward_log).read()
    check(re.search(r"rcpt=<other@elsewhere\.test> to=<other@elsewhere\.test> result=not-forwarded", log),
          "open: mail for another domain than --sink-domain is not forwarded")
    check(re.search(r"host=%s behaviour=open software=\S+ from=<tester@client\.test> "
                    r"rcpt=<percent%%sink\.test@%s\.lab\.test> to=<percent@sink\.test> result=delivered"
                    % (re.escape(a), re.escape(a)), log),
          "open: the forward log names host, rewrite and result")


def test_closed():
    a = host(0, 1)
    s = smtp(a)
    s.ehlo()
    for given in ["foreign@sink.test", "x%%sink.test@%s.lab.test" % a, "sink.test!x@%s.lab.test" % a,
                  "@%s.lab.test:x@sink.test" % a, "x@[127.0.40.1]"]:
        s.rset()
        s.mail("tester@client.test")
        code, msg = s.docmd("RCPT", "TO:<%s>" % given)
        check(500 <= code < 600, "closed: <%s> refused with 5xx, got %d %r" % (given, code, msg))
    rc, dc = relay(s, "postmaster@%s.lab.test" % a, "closed local")
    check(rc == 250 and dc == 250, "closed: its own domain accepted")
    code, _ = s.docmd("RCPT", "TO:<x@sink.test>")
    check(code == 503, "closed: RCPT without MAIL is a sequence error")
    s.quit()


def test_drop():
    a = host(2, 1)
    s = smtp(a)
    s.ehlo()
    rc, dc = relay(s, "dropped@sink.test", "drop")
    check(rc == 250 and dc == 250, "drop: 250 to RCPT and DATA")
    s.quit()


def test_percent():
    a = host(3, 1)
    s = smtp(a)
    s.ehlo()
    rc, dc = relay(s, "pct%%sink.test@%s.lab.test" % a, "percent")
    check(rc == 250 and dc == 250, "percent: the percent hack is accepted")
    for given in ["pctplain@sink.test", "sink.test!pctbang@%s.lab.test" % a]:
        rc, _ = relay(s, given, "percent other")
        check(500 <= rc < 600, "percent: <%s> refused, got %d" % (given, rc))
    s.quit()
    check_forwarded("pct@sink.test", a, "percent")


def test_greylist():
    a = host(4, 1)
    s = smtp(a)
    s.ehlo()
    s.mail("tester@client.test")
    code, msg = s.docmd("RCPT", "TO:<grey@sink.test>")
    check(code == 450 and b"4.7.1" in msg, "greylist: first RCPT 450 4.7.1, got %d %r" % (code, msg))
    s.quit()
    time.sleep(1.3)
    s = smtp(a)
    s.ehlo()
    rc, dc = relay(s, "grey@sink.test", "greylist")
    check(rc == 250 and dc == 250, "greylist: accepted after the delay, got %s %s" % (rc, dc))
    # the triplet, not the client: another recipient or sender is greylisted anew
    s.rset()
    s.mail("tester@client.test")
    code, msg = s.docmd("RCPT", "TO:<grey2@sink.test>")
    check(code == 450 and b"try again in 1 seconds" in msg,
          "greylist: a new recipient is a new triplet, 450 naming the delay, got %d %r" % (code, msg))
    s.rset()
    s.mail("other@client.test")
    code, _ = s.docmd("RCPT", "TO:<grey@sink.test>")
    check(code == 450, "greylist: a new sender is a new triplet, got %d" % code)
    s.quit()
    check_forwarded("grey@sink.test", a, "greylist")


def strict_session(a):
    s = smtp(a)
    code, msg = s.ehlo()
    check(code == 250 and b"PIPELINING" in msg, "%s: EHLO offers PIPELINING" % a)
    return s


def test_exim():
    """Exim's syntax and error limit: exim-open relays plain addresses, 501/503 count."""
    a = host(29, 2)  # even N: Exim's own way to hang up
    s = strict_session(a)
    rc, dc = relay(s, "exim@sink.test", "exim plain")
    check(rc == 250 and dc == 250, "exim-open: a plain address relays, got %s %s" % (rc, dc))
    code, msg = s.docmd("MAIL", "FROM:<relaytest>")
    check(code == 501 and b"sender address must contain a domain" in msg, "exim-open: unqualified sender, got %d" % code)
    code, msg = s.docmd("RCPT", "TO:<x@sink.test>")
    check(code == 503 and b"sender not yet given" in msg, "exim-open: RCPT without MAIL, got %d" % code)
    s.mail("tester@client.test")
    code, msg = s.docmd("RCPT", "TO:<x%%sink.test@[%s]>" % a)
    check(code == 501 and b"domain literals not allowed" in msg, "exim-open: a literal, got %d" % code)
    code, msg = s.docmd("RCPT", 'TO:<"x@sink.test">')
    check(code == 501, "exim-open: the 4th error is answered 501, got %d" % code)
    check(b"Too many syntax or protocol errors" in msg, "exim-open: ... and says why, got %r" % msg)
    try:
        s.noop()
        fail("exim-open: the session should be closed after the 4th error")
    except smtplib.SMTPServerDisconnected:
        pass
    check_forwarded("exim@sink.test", a, "exim-open")
    # odd N: a 421 right after the 3rd error
    c = raw(host(30, 1))
    f = c.makefile("rb")
    f.readline()
    c.sendall(b"EHLO client.test\r\nRCPT TO:<a@sink.test>\r\nDATA\r\nFOO\r\nNOOP\r\n")
    lines = [f.readline() for _ in range(50)]
    lines = [l for l in lines if l]
    codes = [l[:4] for l in lines if not l.startswith(b"250")]
    check(codes == [b"503 ", b"503 ", b"500 ", b"421 "] and lines[-1].startswith(b"421 "),
          "exim-closed (odd N): 503, 503, 500, then 421 and close, got %r" % lines)
    c.close()
    s = strict_session(host(30, 2))
    s.mail("tester@client.test")
    code, msg = s.docmd("RCPT", "TO:<x@sink.test>")
    check(code == 550 and b"relay not permitted" in msg, "exim-closed: relay refused, got %d %r" % (code, msg))
    s.quit()


def test_strict_percent():
    a = host(31, 2)
    s = strict_session(a)
    rc, _ = relay(s, "sp@sink.test", "strict-percent plain")
    check(rc == 550, "strict-percent: a plain address is refused, got %s" % rc)
    rc, dc = relay(s, "sp%%sink.test@[%s]" % a, "strict-percent")
    check(rc == 250 and dc == 250, "strict-percent: the percent hack at its literal relays, got %s %s" % (rc, dc))
    s.quit()
    check_forwarded("sp@sink.test", a, "strict-percent")


def test_starttls():
    a = host(5, 1)
    s = smtp(a)
    s.ehlo()
    check(s.has_extn("starttls"), "starttls: EHLO offers STARTTLS")
    code, msg = s.mail("tester@client.test")
    check(code == 530, "starttls: MAIL before TLS is 530, got %d" % code)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    code, _ = s.starttls(context=ctx)
    check(code == 220, "starttls: 220 to STARTTLS")
    s.ehlo()
    check(not s.has_extn("starttls"), "starttls: no STARTTLS offered inside TLS")
    rc, dc = relay(s, "tls@sink.test", "starttls")
    check(rc == 250 and dc == 250, "starttls: open relay after TLS, got %s %s" % (rc, dc))
    s.quit()
    check_forwarded("tls@sink.test", a, "starttls")


def expect_no_banner(addr, seconds, what):
    c = raw(addr, timeout=seconds)
    try:
        data = c.recv(100)
        fail("%s: got %r before %.1f s" % (what, data, seconds))
    except socket.timeout:
        pass
    finally:
        c.close()


def test_tarpit():
    expect_no_banner(host(6, 1), 1.5, "tarpit")


def test_drip():
    c = raw(host(7, 1), timeout=3)
    got = b""
    start = time.time()
    try:
        while time.time() - start < 2.6:
            got += c.recv(10)
    except socket.timeout:
        pass
    c.close()
    check(1 <= len(got) <= 3 and b"220"[:len(got)] == got,
          "drip: a byte a second of the banner, got %r" % got)


def read_to_eof(addr, seconds):
    c = raw(addr, timeout=seconds)
    data = b""
    try:
        while True:
            chunk = c.recv(4096)
            if not chunk:
                return data, True
            data += chunk
    except socket.timeout:
        return data, False
    finally:
        c.close()


def test_garbage():
    data, eof = read_to_eof(host(8, 1), 3)
    check(eof and len(data) >= 100 and re.match(rb"\d{3}[ -]", data) is None,
          "garbage: junk then close (%d bytes, eof %s)" % (len(data), eof))


def test_http():
    data, eof = read_to_eof(host(9, 1), 3)
    check(eof and data.startswith(b"HTTP/1.1 400 Bad Request\r\n"), "http: an HTTP response then close")


def test_reset():
    c = raw(host(10, 1))
    banner = c.recv(200)
    check(banner.startswith(b"220 "), "reset: a banner first, got %r" % banner)
    c.sendall(b"EHLO client.test\r\n")
    try:
        data = c.recv(100)
        fail("reset: expected ECONNRESET, got %r" % data)
    except ConnectionResetError:
        pass
    c.close()


def test_silent():
    c = raw(host(11, 1), timeout=1.5)
    try:
        data = c.recv(100)
        fail("silent: got %r" % data)
    except socket.timeout:
        pass
    c.sendall(b"EHLO client.test\r\n")  # still open: a closed socket would reset or EOF
    c.settimeout(0.5)
    try:
        data = c.recv(100)
        fail("silent: answered %r" % data)
    except socket.timeout:
        pass
    c.close()


def test_endless():
    c = raw(host(12, 1), timeout=3)
    got = b""
    start = time.time()
    while len(got) < 4000 and time.time() - start < 3:
        chunk = c.recv(4096)
        if not chunk:
            break
        got += chunk
    c.close()
    check(len(got) >= 4000 and got.startswith(b"220 ") and b"\n" not in got and b"\r" not in got,
          "endless: over 4000 bytes of one unending line (%d)" % len(got))


def test_helo_only():
    a = host(13, 1)
    s = smtp(a)
    code, _ = s.ehlo()
    check(code == 500, "helo-only: EHLO is 500, got %d" % code)
    code, _ = s.helo()
    check(code == 250, "helo-only: HELO works")
    rc, dc = relay(s, "helo@sink.test", "helo-only")
    check(rc == 250 and dc == 250, "helo-only: relays after HELO")
    s.quit()
    check_forwarded("helo@sink.test", a, "helo-only")


def test_tempfail():
    try:
        smtp(host(14, 2))
        fail("tempfail (even): expected a 421 banner")
    except smtplib.SMTPConnectError as e:
        check(e.smtp_code == 421, "tempfail (even): 421 banner, got %d" % e.smtp_code)
    s = smtp(host(14, 3))
    s.ehlo()
    for _ in range(2):
        s.rset()
        s.mail("tester@client.test")
        code, _ = s.docmd("RCPT", "TO:<temp@sink.test>")
        check(code == 450, "tempfail (odd): 450 on every RCPT, got %d" % code)
    s.quit()


def test_bounds():
    c = raw(host(0, 9))
    f = c.makefile("rb")
    f.readline()
    c.sendall(b"NOOP " + b"A" * 1100 + b"\r\n")
    line = f.readline()
    check(line.startswith(b"500 "), "bounds: a line over 1000 bytes is refused, got %r" % line)
    check(f.readline() == b"", "bounds: and the connection is closed")
    c.close()
    c = raw(host(0, 9))
    f = c.makefile("rb")
    f.readline()
    c.sendall(b"\x00\xff\x01garbage\r\n" * 25)
    replies = [f.readline() for _ in range(21)]
    check(replies[-1].startswith(b"421 "), "bounds: too many bad commands end with 421, got %r" % replies[-1])
    c.close()


def test_software():
    c = raw(host(0, 1))
    banner = c.recv(200)
    c.close()
    check(re.match(rb"220 127\.20\.0\.1\.lab\.test ", banner) is not None, "software: banner names the host")
    banners = set()
    for n in range(1, 40):
        c = raw(host(0, n))
        banners.add(re.sub(rb"[\d.]+", b"", c.recv(200)))  # the host's name and dates vary
        c.close()
    check(len(banners) >= 4, "software: several MTA banners across hosts (%d)" % len(banners))


def test_mix():
    truth = {}
    for line in open(ARGS.truth):
        addr, behaviour, verdict, software = line.rstrip("\n").split("\t")
        truth[addr] = (behaviour, verdict, software)
    by = {}
    for addr, (behaviour, _, _) in sorted(truth.items(), key=lambda kv: socket.inet_aton(kv[0])):
        if addr.startswith("127.21."):
            by.setdefault(behaviour, addr)
    check(set(by) == {"open", "closed", "silent", "drop"}, "mix: every behaviour of the mix occurs (%s)" % by)
    if "open" in by:
        s = smtp(by["open"])
        s.ehlo()
        rc, dc = relay(s, "mixopen@sink.test", "mix open")
        s.quit()
        check(rc == 250 and dc == 250, "mix: an open host per --truth relays")
        check_forwarded("mixopen@sink.test", by["open"], "mix open")
        c = raw(by["open"])
        banner = c.recv(200).decode("latin-1")
        c.close()
        soft = truth[by["open"]][2]
        marker = {"Microsoft Exchange": "Microsoft ESMTP MAIL Service"}.get(soft, soft)
        check(marker in banner, "mix: the banner fits --truth's software (%s: %r)" % (soft, banner))
    if "closed" in by:
        s = smtp(by["closed"])
        s.ehlo()
        s.mail("tester@client.test")
        code, _ = s.docmd("RCPT", "TO:<mixclosed@sink.test>")
        s.quit()
        check(500 <= code < 600, "mix: a closed host per --truth refuses")
    if "silent" in by:
        expect_no_banner(by["silent"], 1, "mix silent")


def test_latency():
    start = time.time()
    s = smtp(host(0, 1), port=ARGS.latency_port)
    banner_time = time.time() - start
    start = time.time()
    s.ehlo()
    ehlo_time = time.time() - start
    s.quit()
    # libevent's timers run on CLOCK_MONOTONIC_COARSE: a 300 ms hold may end a tick (a few ms) early.
    check(banner_time >= 0.29 and ehlo_time >= 0.29,
          "latency: 300 ms before each reply (banner %.2f, EHLO %.2f)" % (banner_time, ehlo_time))
    # STARTTLS under latency: the 220 must still come before the handshake.
    s = smtp(host(5, 2), port=ARGS.latency_port)
    s.ehlo()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    code, _ = s.starttls(context=ctx)
    check(code == 220, "latency: STARTTLS works with delayed replies")
    code, _ = s.ehlo()
    check(code == 250, "latency: EHLO inside TLS")
    s.quit()
    # Pipelined commands: the latency is the link's, so the replies come in
    # order, together, one latency period after the batch.
    c = socket.create_connection((host(0, 4), ARGS.latency_port), timeout=5, source_address=(ARGS.client, 0))
    f = c.makefile("rb")
    f.readline()
    start = time.time()
    c.sendall(b"HELO client.test\r\nMAIL FROM:<a@client.test>\r\n"
              b"RCPT TO:<postmaster@127.20.0.4.lab.test>\r\nQUIT\r\n")
    codes, times = [], []
    for _ in range(4):
        codes.append(f.readline()[:3])
        times.append(time.time() - start)
    c.close()
    gaps = [b - a for a, b in zip([0] + times, times)]
    check(codes == [b"250", b"250", b"250", b"221"] and gaps[0] >= 0.29 and times[-1] < 0.55,
          "latency: pipelined replies in order, together after one delay (%r, gaps %s)"
          % (codes, ["%.2f" % g for g in gaps]))
    # --idle-timeout 2 there: a silent client is told 421 and dropped.
    c = socket.create_connection((host(0, 3), ARGS.latency_port), timeout=5, source_address=(ARGS.client, 0))
    f = c.makefile("rb")
    banner = f.readline()
    start = time.time()
    line = f.readline()
    waited = time.time() - start
    check(banner.startswith(b"220 ") and line.startswith(b"421 4.4.2 ") and 1.5 < waited < 4.5,
          "idle timeout: 421 after about 2 s (%r after %.1f s)" % (line, waited))
    check(f.readline() == b"", "idle timeout: then the connection is closed")
    c.close()


def test_dropped_never_arrived():
    check(wait_for_message("dropped@sink.test", timeout=0.5) is None, "drop: nothing reached the sink")


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--latency-port", type=int, required=True)
    p.add_argument("--sink-dir", required=True)
    p.add_argument("--forward-log", required=True)
    p.add_argument("--truth", required=True)
    p.add_argument("--client", default="127.0.40.2")
    ARGS = p.parse_args()
    tests = [test_open, test_closed, test_drop, test_percent, test_greylist, test_starttls, test_tarpit,
             test_drip, test_garbage, test_http, test_reset, test_silent, test_endless, test_helo_only,
             test_tempfail, test_exim, test_strict_percent, test_bounds, test_software, test_mix, test_latency, test_dropped_never_arrived]
    for t in tests:
        start = time.time()
        try:
            t()
        except Exception as e:  # a crash in one check is a failure, not the end of the run
            fail("%s: %r" % (t.__name__, e))
        print("%-28s %.2fs" % (t.__name__, time.time() - start), flush=True)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES), file=sys.stderr)
        return 1
    print("all lab checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
