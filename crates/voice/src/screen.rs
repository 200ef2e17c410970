//! A screen in front of the SIP stack's UDP transport: every datagram is
//! checked before rsipstack parses it, because rsipstack silently drops or
//! wrongly accepts messages that RFC 3261 wants answered.
//!
//! * Keep-alives and well-formed messages pass unchanged.
//! * A request whose framing or Request-Line is broken is answered here,
//!   statelessly, from its raw bytes: 400 for a bad Request-Line or
//!   Content-Length (RFC 3261 18.3: a body shorter than Content-Length is
//!   an error on UDP), 501 with `Allow` for a method the stack does not
//!   know (methods are case-sensitive, 7.1), 513 for a datagram too large
//!   for the stack's buffer. ACK is never answered (17.2.1).
//! * A body longer than Content-Length is cut to it (18.3).
//! * A broken response, or a broken request lacking the headers an answer
//!   must copy (8.2.6.2), is dropped.
//!
//! [`screen`] decides from the bytes alone; [`ScreenedUdp`] is the socket
//! rsipstack reads through.

use crate::server::ALLOW;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

/// Methods rsipstack can parse, spelt exactly (it compares without regard
/// to case, RFC 3261 does not). Anything else it would drop unanswered.
const KNOWN_METHODS: &[&str] = &[
    "ACK",
    "BYE",
    "CANCEL",
    "INFO",
    "INVITE",
    "MESSAGE",
    "NOTIFY",
    "OPTIONS",
    "PRACK",
    "PUBLISH",
    "REFER",
    "REGISTER",
    "SUBSCRIBE",
    "UPDATE",
];

/// The largest UDP payload (IPv4: 65,535 minus the IP and UDP headers).
pub const MAX_DATAGRAM: usize = 65_507;

/// What to do with one received datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to the SIP stack unchanged.
    Pass,
    /// Hand only its first `n` bytes to the stack (the body ran past
    /// Content-Length).
    Truncate(usize),
    /// Keep it from the stack and send these bytes back to its source.
    Answer(Vec<u8>),
    /// Keep it from the stack and say nothing; the reason is for the log.
    Drop(&'static str),
}

/// What is wrong with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    NoEmptyLine,
    BadStartLine,
    BadContentLength,
    ShortBody,
    UnknownMethod,
    TooLarge,
}

impl Fault {
    fn status(self) -> (u16, &'static str) {
        match self {
            Fault::NoEmptyLine => (400, "Missing Empty Line"),
            Fault::BadStartLine => (400, "Bad Request-Line"),
            Fault::BadContentLength => (400, "Bad Content-Length"),
            Fault::ShortBody => (400, "Body Shorter Than Content-Length"),
            Fault::UnknownMethod => (501, "Not Implemented"),
            Fault::TooLarge => (513, "Message Too Large"),
        }
    }
}

/// Decide what becomes of `datagram`, received from `source`, when the
/// stack reads into a buffer of `max_len` bytes.
pub fn screen(datagram: &[u8], source: SocketAddr, max_len: usize) -> Verdict {
    // CRLF keep-alives (RFC 5626) and stray blank datagrams: the stack's.
    if datagram.iter().all(u8::is_ascii_whitespace) {
        return Verdict::Pass;
    }
    let sep = datagram.windows(4).position(|w| w == b"\r\n\r\n");
    let head = Head::parse(&datagram[..sep.unwrap_or(datagram.len())]);
    if head.start.starts_with("SIP/") {
        // Nobody to tell about a broken response (RFC 3261 18.3: discard).
        return match sep.ok_or(Fault::NoEmptyLine).and_then(|s| frame(&head, s + 4, datagram.len(), max_len)) {
            Ok(n) if status_line_ok(&head.start) => cut(n, datagram.len()),
            _ => Verdict::Drop("malformed response"),
        };
    }
    let checked = sep.ok_or(Fault::NoEmptyLine).and_then(|s| {
        let method = request_line(&head.start).ok_or(Fault::BadStartLine)?;
        let n = frame(&head, s + 4, datagram.len(), max_len)?;
        if KNOWN_METHODS.contains(&method) { Ok(n) } else { Err(Fault::UnknownMethod) }
    });
    match checked {
        Ok(n) => cut(n, datagram.len()),
        Err(fault) => refuse(&head, source, fault),
    }
}

/// Pass the first `n` of `total` bytes.
fn cut(n: usize, total: usize) -> Verdict {
    if n < total { Verdict::Truncate(n) } else { Verdict::Pass }
}

/// The message's length by its Content-Length, checked against the
/// datagram (`body_at`: where the body starts).
fn frame(head: &Head, body_at: usize, total: usize, max_len: usize) -> Result<usize, Fault> {
    let mut length = None;
    for value in head.values(&["content-length", "l"]) {
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Fault::BadContentLength);
        }
        // Only digits: parsing fails on overflow alone, and no datagram
        // holds that many bytes.
        let n = value.parse::<usize>().unwrap_or(usize::MAX);
        if length.is_some_and(|l| l != n) {
            return Err(Fault::BadContentLength);
        }
        length = Some(n);
    }
    // Without Content-Length the body runs to the datagram's end (18.3).
    let end = match length {
        Some(n) if n > total - body_at => return Err(Fault::ShortBody),
        Some(n) => body_at + n,
        None => total,
    };
    if end > max_len { Err(Fault::TooLarge) } else { Ok(end) }
}

/// The method of a well-formed `Method SP Request-URI SP SIP-Version`.
fn request_line(line: &str) -> Option<&str> {
    let mut parts = line.split(' ');
    let (method, uri, version) = (parts.next()?, parts.next()?, parts.next()?);
    let scheme = uri.split_once(':').map(|(s, _)| s)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let uri_ok = uri.chars().all(|c| c.is_ascii_graphic() || !c.is_ascii());
    (parts.next().is_none() && is_token(method) && scheme_ok && uri_ok && is_version(version)).then_some(method)
}

/// `SIP-Version SP Status-Code [SP Reason-Phrase]`: a missing reason is
/// let through, as the stack takes it and nobody is helped by a drop.
fn status_line_ok(line: &str) -> bool {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().is_some_and(is_version);
    let code = parts.next().is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()));
    version && code
}

/// `SIP/1*DIGIT.1*DIGIT`; the name is case-insensitive (RFC 3261 7.1).
fn is_version(v: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
        && v[4..].split_once('.').is_some_and(|(major, minor)| digits(major) && digits(minor))
}

/// RFC 3261 25.1 `token`.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c))
}

/// Answer a broken request if it can be answered (not an ACK, and the
/// headers a response copies are there), else drop it.
fn refuse(head: &Head, source: SocketAddr, fault: Fault) -> Verdict {
    let cseq_method = head.first(&["cseq"]).and_then(|c| c.split_whitespace().nth(1));
    if head.start.split(' ').next() == Some("ACK") || cseq_method == Some("ACK") {
        return Verdict::Drop("malformed ACK");
    }
    match answer(head, source, fault) {
        Some(bytes) => Verdict::Answer(bytes),
        None => Verdict::Drop("malformed, without the headers to answer it"),
    }
}

/// A response built from the request's own headers (RFC 3261 8.2.6.2).
fn answer(head: &Head, source: SocketAddr, fault: Fault) -> Option<Vec<u8>> {
    let vias: Vec<&str> = head.values(&["via", "v"]).collect();
    let from = head.first(&["from", "f"])?;
    let to = head.first(&["to", "t"])?;
    let call_id = head.first(&["call-id", "i"])?;
    let cseq = head.first(&["cseq"])?;
    let top = vias.first()?;
    // A stray CR (or other control) would break the answer's own framing.
    let clean = |v: &str| !v.chars().any(|c| c.is_ascii_control() && c != '\t');
    if !vias.iter().all(|v| clean(v)) || ![from, to, call_id, cseq].into_iter().all(clean) {
        return None;
    }
    let (code, reason) = fault.status();
    let mut out = format!("SIP/2.0 {code} {reason}\r\n");
    for (i, via) in vias.iter().enumerate() {
        let via = if i == 0 { stamp_via(via, source) } else { (*via).to_string() };
        let _ = write!(out, "Via: {via}\r\n");
    }
    let _ = write!(out, "From: {from}\r\n");
    if has_tag(to) {
        let _ = write!(out, "To: {to}\r\n");
    } else {
        // The same request retransmitted gets the same tag.
        let _ = write!(out, "To: {to};tag={:016x}\r\n", fnv1a(&[call_id, top, cseq]));
    }
    let _ = write!(out, "Call-ID: {call_id}\r\nCSeq: {cseq}\r\n");
    if fault == Fault::UnknownMethod {
        let _ = write!(out, "Allow: {ALLOW}\r\n");
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    Some(out.into_bytes())
}

/// The top Via as the transport would have received it: `received` when
/// the packet came from elsewhere than the sent-by host (RFC 3261
/// 18.2.1), `rport` filled in when asked for (RFC 3581).
fn stamp_via(via: &str, source: SocketAddr) -> String {
    let (first, rest) = match via.split_once(',') {
        Some((first, rest)) => (first, Some(rest)),
        None => (via, None),
    };
    let ip = source.ip().to_canonical();
    let mut parts = first.split(';');
    let sent = parts.next().unwrap_or_default();
    let sent_by = sent.split_whitespace().last().unwrap_or_default();
    let host = match sent_by.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => sent_by.split(':').next().unwrap_or_default(),
    };
    let mut received = host.parse::<IpAddr>().map(|h| h.to_canonical()) != Ok(ip);
    let mut has_received = false;
    let mut out = sent.to_string();
    for param in parts {
        let name = param.split('=').next().unwrap_or_default().trim();
        if param.trim().eq_ignore_ascii_case("rport") {
            received = true;
            let _ = write!(out, ";rport={}", source.port());
            continue;
        }
        has_received |= name.eq_ignore_ascii_case("received");
        out.push(';');
        out.push_str(param);
    }
    if received && !has_received {
        let _ = write!(out, ";received={ip}");
    }
    if let Some(rest) = rest {
        out.push(',');
        out.push_str(rest);
    }
    out
}

/// Whether a To/From value carries a `tag` parameter (after the `>` of a
/// name-addr; a bare addr-spec's parameters are all the header's).
fn has_tag(value: &str) -> bool {
    let params = value.rsplit_once('>').map_or(value, |(_, p)| p);
    params.split(';').skip(1).any(|p| p.split('=').next().is_some_and(|n| n.trim().eq_ignore_ascii_case("tag")))
}

/// FNV-1a over the parts: a stable, well-spread tag without randomness.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|p| p.bytes().chain([0])) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// A message's start line and headers (names as written, folded lines
/// joined), read without judging them.
struct Head {
    start: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(bytes: &[u8]) -> Head {
        let text = String::from_utf8_lossy(bytes);
        let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let start = lines.next().unwrap_or_default().to_string();
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                // Folding (RFC 3261 7.3.1): the line continues the last value.
                if let Some((_, value)) = headers.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim_matches([' ', '\t']));
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim_matches([' ', '\t']).to_string(), value.trim_matches([' ', '\t']).to_string()));
            }
        }
        Head { start, headers }
    }

    /// Values of the header under any of `names` (long and compact form).
    fn values(&self, names: &'static [&'static str]) -> impl Iterator<Item = &str> {
        self.headers.iter().filter(|(n, _)| names.iter().any(|m| n.eq_ignore_ascii_case(m))).map(|(_, v)| v.as_str())
    }

    fn first(&self, names: &'static [&'static str]) -> Option<&str> {
        self.values(names).next()
    }
}

/// The SIP UDP socket rsipstack reads through: [`screen`]s each datagram,
/// answers or drops the broken ones itself and hands on the rest.
pub struct ScreenedUdp {
    socket: tokio::net::UdpSocket,
    /// Room for the largest datagram, so that one too large for the
    /// stack's buffer is seen whole rather than silently cut.
    buf: tokio::sync::Mutex<Vec<u8>>,
}

impl ScreenedUdp {
    /// Screen datagrams arriving on `socket`.
    pub fn new(socket: tokio::net::UdpSocket) -> ScreenedUdp {
        ScreenedUdp { socket, buf: tokio::sync::Mutex::new(vec![0; MAX_DATAGRAM]) }
    }
}

#[async_trait::async_trait]
impl rsipstack::platform::net::UdpSocket for ScreenedUdp {
    async fn recv_from(&self, buf: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        let mut own = self.buf.lock().await;
        loop {
            let (len, source) = self.socket.recv_from(&mut own).await?;
            let datagram = &own[..len];
            let n = match screen(datagram, source, buf.len()) {
                Verdict::Pass => len,
                Verdict::Truncate(n) => {
                    tracing::debug!(%source, len, content_length_end = n, "SIP datagram cut to its Content-Length");
                    n
                }
                Verdict::Answer(answer) => {
                    let status = String::from_utf8_lossy(answer.get(8..11).unwrap_or_default()).into_owned();
                    tracing::debug!(%source, len, %status, "malformed SIP request answered");
                    if let Err(e) = self.socket.send_to(&answer, source).await {
                        tracing::debug!(%source, "could not answer a malformed SIP request: {e}");
                    }
                    continue;
                }
                Verdict::Drop(why) => {
                    tracing::debug!(%source, len, why, "SIP datagram dropped");
                    continue;
                }
            };
            // `screen` never passes more than the stack's buffer holds.
            let Some(dest) = buf.get_mut(..n) else { continue };
            dest.copy_from_slice(&datagram[..n]);
            return Ok((n, source));
        }
    }

    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> rsipstack::Result<usize> {
        Ok(self.socket.send_to(buf, addr).await?)
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: &str = "127.0.0.1:40000";
    const BUF: usize = 8192;

    fn src() -> SocketAddr {
        FROM.parse().unwrap()
    }

    /// A request with CRLF line ends; `cl`: the Content-Length line's value
    /// (`None`: no such line).
    fn request(line: &str, cseq: &str, cl: Option<&str>, body: &str) -> Vec<u8> {
        let cl = cl.map(|v| format!("Content-Length: {v}\r\n")).unwrap_or_default();
        format!(
            "{line}\r\nVia: SIP/2.0/UDP {FROM};branch=z9hG4bK-1\r\nFrom: <sip:a@{FROM}>;tag=f1\r\n\
             To: <sip:100@127.0.0.1:5060>\r\nCall-ID: c1@x\r\nCSeq: {cseq}\r\nMax-Forwards: 70\r\n{cl}\r\n{body}"
        )
        .into_bytes()
    }

    fn options(cl: Option<&str>, body: &str) -> Vec<u8> {
        request("OPTIONS sip:100@127.0.0.1:5060 SIP/2.0", "1 OPTIONS", cl, body)
    }

    /// The answer's status code and headers, or a panic naming the verdict.
    fn answered(v: Verdict) -> (u16, String) {
        let Verdict::Answer(bytes) = v else { panic!("not answered: {v:?}") };
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("SIP/2.0 "), "{text}");
        assert!(text.ends_with("Content-Length: 0\r\n\r\n"), "{text}");
        (text[8..11].parse().unwrap(), text)
    }

    #[test]
    fn good_messages_pass_untouched() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n";
        let good = [
            options(Some("0"), ""),
            options(None, ""),
            options(Some(" 0 "), ""),
            request("INVITE sip:100@127.0.0.1 SIP/2.0", "1 INVITE", Some(&sdp.len().to_string()), sdp),
            request("ACK sip:100@127.0.0.1 SIP/2.0", "1 ACK", Some("0"), ""),
            request("INVITE sips:100@127.0.0.1 SIP/2.0", "1 INVITE", None, sdp),
            request("MESSAGE sip:100@127.0.0.1 SIP/2.0", "1 MESSAGE", Some("5"), "hello"),
            // Wrong version: the server's own 505.
            request("OPTIONS sip:100@127.0.0.1 SIP/3.0", "1 OPTIONS", Some("0"), ""),
            // No CSeq: not ours to judge.
            String::from_utf8(options(Some("0"), "")).unwrap().replace("CSeq: 1 OPTIONS\r\n", "").into_bytes(),
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK-2\r\nl: 0\r\n\r\n".to_vec(),
            b"SIP/2.0 180 \r\nContent-Length: 0\r\n\r\n".to_vec(),
            b"SIP/2.0 180\r\nContent-Length: 0\r\n\r\n".to_vec(),
            b"\r\n\r\n".to_vec(),
            b"\r\n".to_vec(),
        ];
        for msg in good {
            assert_eq!(screen(&msg, src(), BUF), Verdict::Pass, "{}", String::from_utf8_lossy(&msg));
        }
        let compact = String::from_utf8(options(None, "")).unwrap().replace("Max-Forwards", "l: 0\r\nMax");
        assert_eq!(screen(compact.as_bytes(), src(), BUF), Verdict::Pass);
        let folded = String::from_utf8(options(Some("0"), "")).unwrap().replace("Call-ID: c1@x", "Call-ID:\r\n c1@x");
        assert_eq!(screen(folded.as_bytes(), src(), BUF), Verdict::Pass);
    }

    #[test]
    fn content_length_beyond_the_datagram_is_400() {
        // m04, x04.
        for msg in [
            options(Some("900"), "v=0\r\n"),
            request("INVITE sip:100@127.0.0.1 SIP/2.0", "1 INVITE", Some("700"), "v=0\r\ns=-\r\n"),
            options(Some("99999999999999999999999999"), ""),
        ] {
            let (code, text) = answered(screen(&msg, src(), BUF));
            assert_eq!(code, 400, "{text}");
            assert!(text.contains("Body Shorter Than Content-Length"), "{text}");
        }
    }

    #[test]
    fn bad_content_length_is_400() {
        // x02, x03, and the compact form.
        for cl in ["abc", "-5", "", "+5", "5 5", "0x10", "1.0"] {
            let (code, text) = answered(screen(&options(Some(cl), ""), src(), BUF));
            assert_eq!(code, 400, "{cl:?}: {text}");
            assert!(text.contains(" 400 Bad Content-Length\r\n"), "{text}");
        }
        let compact = String::from_utf8(options(None, "")).unwrap().replace("Max-Forwards", "L: x\r\nMax");
        assert_eq!(answered(screen(compact.as_bytes(), src(), BUF)).0, 400);
        let twice = String::from_utf8(options(Some("0"), "")).unwrap().replace("Max-Forwards", "l: 3\r\nMax");
        assert_eq!(answered(screen(twice.as_bytes(), src(), BUF)).0, 400);
    }

    #[test]
    fn unknown_methods_are_501_with_allow() {
        // m11, x08.
        for (line, cseq) in [
            ("FOO sip:100@127.0.0.1 SIP/2.0", "1 FOO"),
            ("options sip:100@127.0.0.1 SIP/2.0", "1 options"),
            ("Invite sip:100@127.0.0.1 SIP/2.0", "1 Invite"),
        ] {
            let (code, text) = answered(screen(&request(line, cseq, Some("0"), ""), src(), BUF));
            assert_eq!(code, 501, "{text}");
            assert!(text.contains(&format!("\r\nAllow: {ALLOW}\r\n")), "{text}");
            assert!(text.contains(&format!("\r\nCSeq: {cseq}\r\n")), "{text}");
        }
    }

    #[test]
    fn the_answer_copies_the_request() {
        let msg = "FOO sip:100@127.0.0.1 SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bK-a;rport\r\n\
                   Via: SIP/2.0/UDP proxy.example;branch=z9hG4bK-b\r\nf: \"A\" <sip:a@x>;tag=f1\r\nt: sip:100@y\r\n\
                   i: c2@x\r\nCSeq: 7 FOO\r\nl: 0\r\n\r\n";
        let (_, text) = answered(screen(msg.as_bytes(), src(), BUF));
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "SIP/2.0 501 Not Implemented");
        assert_eq!(lines[1], "Via: SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bK-a;rport=40000;received=127.0.0.1");
        assert_eq!(lines[2], "Via: SIP/2.0/UDP proxy.example;branch=z9hG4bK-b");
        assert_eq!(lines[3], "From: \"A\" <sip:a@x>;tag=f1");
        assert!(lines[4].starts_with("To: sip:100@y;tag="), "{text}");
        assert_eq!(lines[5], "Call-ID: c2@x");
        assert_eq!(lines[6], "CSeq: 7 FOO");
        // The same request twice: the same To tag.
        assert_eq!(screen(msg.as_bytes(), src(), BUF), Verdict::Answer(text.into_bytes()));
        // A To tag already there is kept, and not doubled.
        let tagged = msg.replace("t: sip:100@y", "t: <sip:100@y>;tag=t9");
        let (_, text) = answered(screen(tagged.as_bytes(), src(), BUF));
        assert!(text.contains("\r\nTo: <sip:100@y>;tag=t9\r\nCall-ID"), "{text}");
    }

    #[test]
    fn stamp_via_adds_received_only_when_needed() {
        assert_eq!(stamp_via("SIP/2.0/UDP 127.0.0.1:40000;branch=b", src()), "SIP/2.0/UDP 127.0.0.1:40000;branch=b");
        assert_eq!(
            stamp_via("SIP/2.0/UDP host.example;branch=b, SIP/2.0/UDP h2", src()),
            "SIP/2.0/UDP host.example;branch=b;received=127.0.0.1, SIP/2.0/UDP h2"
        );
        assert_eq!(
            stamp_via("SIP/2.0/UDP 127.0.0.1:5;rport;branch=b;received=1.2.3.4", src()),
            "SIP/2.0/UDP 127.0.0.1:5;rport=40000;branch=b;received=1.2.3.4"
        );
        let v6: SocketAddr = "[::1]:7".parse().unwrap();
        assert_eq!(stamp_via("SIP/2.0/UDP [::1]:7;branch=b", v6), "SIP/2.0/UDP [::1]:7;branch=b");
    }

    #[test]
    fn a_long_body_is_cut_to_content_length() {
        let msg = options(Some("3"), "abcdef");
        assert_eq!(screen(&msg, src(), BUF), Verdict::Truncate(msg.len() - 3));
    }

    #[test]
    fn bad_request_lines_are_400() {
        for line in [
            "OPTIONS  sip:100@127.0.0.1 SIP/2.0",
            "OPTIONS sip:100@127.0.0.1",
            "OPTIONS sip:100@127.0.0.1 SIP/2.0 extra",
            "OPTIONS 100 SIP/2.0",
            "OPTIONS sip:100@127.0.0.1 HTTP/1.1",
            "OPT<IONS sip:100@127.0.0.1 SIP/2.0",
            "OPTIONS\tsip:100@127.0.0.1\tSIP/2.0",
        ] {
            let (code, text) = answered(screen(&request(line, "1 OPTIONS", Some("0"), ""), src(), BUF));
            assert_eq!(code, 400, "{line:?}: {text}");
        }
        // No empty line after the headers.
        let open = options(Some("0"), "");
        let (code, _) = answered(screen(&open[..open.len() - 2], src(), BUF));
        assert_eq!(code, 400);
    }

    #[test]
    fn too_large_for_the_stack_is_513() {
        let msg = options(Some("0"), "");
        assert_eq!(answered(screen(&msg, src(), msg.len() - 1)).0, 513);
        assert_eq!(screen(&msg, src(), msg.len()), Verdict::Pass);
    }

    #[test]
    fn unanswerable_things_are_dropped() {
        // m01: junk, nothing to answer with.
        let junk = "\u{bf}\u{a1} THIS IS NOT SIP %%% <<<>>>\r\nGARBAGE / 9.9 ??? {{{ }}}\r\n\r\n";
        assert!(matches!(screen(junk.as_bytes(), src(), BUF), Verdict::Drop(_)));
        // ACK is never answered, however broken.
        let ack = request("ACK sip:100@127.0.0.1 SIP/2.0", "1 ACK", Some("abc"), "");
        assert!(matches!(screen(&ack, src(), BUF), Verdict::Drop(_)));
        let ack = request("ack sip:100@127.0.0.1 SIP/2.0", "1 ACK", Some("0"), "");
        assert!(matches!(screen(&ack, src(), BUF), Verdict::Drop(_)));
        // A broken request without a CSeq to copy.
        let msg = String::from_utf8(options(Some("abc"), "")).unwrap().replace("CSeq: 1 OPTIONS\r\n", "");
        assert!(matches!(screen(msg.as_bytes(), src(), BUF), Verdict::Drop(_)));
        // A stray CR inside a copied header.
        let msg = String::from_utf8(options(Some("abc"), "")).unwrap().replace("c1@x", "c1\r@x");
        assert!(matches!(screen(msg.as_bytes(), src(), BUF), Verdict::Drop(_)));
        // Broken responses.
        for r in [
            "SIP/2.0 200 OK\r\nContent-Length: 99\r\n\r\n",
            "SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n",
            "SIP/2.0 2000 OK\r\nContent-Length: 0\r\n\r\n",
            "SIP/2.0  200 OK\r\nContent-Length: 0\r\n\r\n",
            "SIP/2.0 200 OK\r\nContent-Length: 0\r\n",
        ] {
            assert!(matches!(screen(r.as_bytes(), src(), BUF), Verdict::Drop(_)), "{r:?}");
        }
    }

    #[test]
    fn known_methods_are_the_stacks() {
        let stack: Vec<String> = rsipstack::sip::Method::all().iter().map(ToString::to_string).collect();
        assert_eq!(stack, KNOWN_METHODS);
    }
}
