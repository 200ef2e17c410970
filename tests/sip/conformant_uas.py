#!/usr/bin/env python3
"""A tiny SIP responder that answers out-of-dialog requests the way RFC 3261
wants, used only to check tests/sip/malformed.xml itself (the real target is
Switchboard's SIP server). Standard library only; UDP on 127.0.0.1.

    conformant_uas.py PORT [SECONDS]     (default 60 s, then it exits)

Rules: unparseable or without Call-ID: dropped. Wrong SIP version: 505.
No CSeq, CSeq method unlike the request's, Content-Length beyond the
datagram: 400. Header line over 8 KB: 513. ACK: nothing. BYE, CANCEL, INFO
(no dialog exists here): 481. INVITE: 488 unless it offers PCMU or PCMA
(then 480: this responder takes no calls). REGISTER: 401 with a digest
challenge. OPTIONS: 200. Anything else: 501.
"""

import re
import socket
import sys
import time

NAMES = {"via": "Via", "from": "From", "to": "To", "call-id": "Call-ID", "cseq": "CSeq"}
KNOWN = {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO"}


def respond(sock, addr, headers, code, reason, extra=()):
    lines = [f"SIP/2.0 {code} {reason}"]
    for name in ("via", "from", "to", "call-id", "cseq"):
        for value in headers.get(name, []):
            if name == "to" and code > 100 and ";tag=" not in value:
                value += ";tag=conformant-uas"
            lines.append(f"{NAMES[name]}: {value}")
    lines.extend(extra)
    lines.append("Content-Length: 0")
    sock.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), addr)


def handle(sock, data, addr):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return  # garbage or a keep-alive
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return
    lines = text.split("\r\n")
    m = re.match(r"^([A-Za-z]+) (\S+) (SIP/\d+\.\d+)$", lines[0])
    if not m:
        return
    method, _uri, version = m.groups()
    headers = {}
    too_long = False
    for line in lines[1:]:
        if len(line) > 8192:
            too_long = True
        name, colon, value = line.partition(":")
        if colon:
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    if "call-id" not in headers or "via" not in headers:
        return
    if version != "SIP/2.0":
        return respond(sock, addr, headers, 505, "Version Not Supported")
    cseq = headers.get("cseq", [""])[0].split()
    if len(cseq) != 2 or not cseq[0].isdigit() or cseq[1] != method:
        return respond(sock, addr, headers, 400, "Bad CSeq")
    length = headers.get("content-length", ["0"])[0]
    if not length.isdigit() or int(length) > len(body):
        return respond(sock, addr, headers, 400, "Bad Content-Length")
    if too_long:
        return respond(sock, addr, headers, 513, "Message Too Large")
    if method == "ACK":
        return
    if method in ("BYE", "CANCEL", "INFO"):
        return respond(sock, addr, headers, 481, "Call/Transaction Does Not Exist")
    if method == "INVITE":
        sdp = body[: int(length)].decode("utf-8", "replace")
        if re.search(r"^a=rtpmap:\d+ (PCMU|PCMA)/8000", sdp, re.M):
            return respond(sock, addr, headers, 480, "Temporarily Unavailable")
        return respond(sock, addr, headers, 488, "Not Acceptable Here")
    if method == "REGISTER":
        challenge = 'WWW-Authenticate: Digest realm="switchboard", nonce="0123456789abcdef", algorithm=MD5, qop="auth"'
        return respond(sock, addr, headers, 401, "Unauthorized", [challenge])
    if method == "OPTIONS":
        return respond(sock, addr, headers, 200, "OK", ["Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO"])
    if method not in KNOWN:
        return respond(sock, addr, headers, 501, "Not Implemented")


def main():
    port = int(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    print(f"conformant_uas listening on 127.0.0.1:{port}", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sock.settimeout(max(0.05, end - time.monotonic()))
        try:
            data, addr = sock.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[0] != "127.0.0.1":
            continue
        handle(sock, data, addr)


if __name__ == "__main__":
    main()
