//! The little of SDP (RFC 4566, offer/answer RFC 3264) a G.711 call needs:
//! where to send RTP, which codec, the telephone-event payload type and the
//! direction (hold is `sendonly`/`inactive` or a zero address).

use media::g711::Codec;
use std::net::{IpAddr, SocketAddr};

/// Payload type we offer for RFC 4733 telephone events.
pub const DTMF_PT: u8 = 101;

/// Media direction attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Both ways (the default).
    SendRecv,
    /// The offerer only sends (it puts us on hold).
    SendOnly,
    /// The offerer only receives.
    RecvOnly,
    /// No media either way.
    Inactive,
}

impl Direction {
    fn attr(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction to answer with.
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }
}

/// What we took from a peer's session description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remote {
    /// Where to send RTP (`None` when the peer holds with `0.0.0.0`).
    pub rtp: Option<SocketAddr>,
    /// Audio payload types offered, in the peer's order of preference.
    pub payloads: Vec<u8>,
    /// The peer's telephone-event payload type, if any.
    pub dtmf_pt: Option<u8>,
    /// Direction.
    pub direction: Direction,
}

impl Remote {
    /// The first G.711 codec the peer offered.
    pub fn codec(&self) -> Option<Codec> {
        self.payloads.iter().find_map(|pt| Codec::from_payload_type(*pt))
    }

    /// The peer puts the call on hold.
    pub fn is_hold(&self) -> bool {
        self.rtp.is_none() || matches!(self.direction, Direction::SendOnly | Direction::Inactive)
    }
}

/// Why a description was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdpError {
    /// Not UTF-8 or no audio stream.
    #[error("session description has no audio stream")]
    NoAudio,
    /// A line we need could not be read.
    #[error("bad session description line: {0}")]
    Bad(String),
}

/// Read a peer's description (offer or answer).
pub fn parse(body: &[u8]) -> Result<Remote, SdpError> {
    let text = std::str::from_utf8(body).map_err(|_| SdpError::NoAudio)?;
    let mut session_addr: Option<IpAddr> = None;
    let mut media_addr: Option<IpAddr> = None;
    let mut port: Option<u16> = None;
    let mut payloads = Vec::new();
    let mut dtmf_pt = None;
    let mut direction = Direction::SendRecv;
    let mut in_audio = false;
    let mut seen_audio = false;
    let mut zero_addr = false;
    for line in text.lines() {
        let line = line.trim_end();
        let Some((kind, value)) = line.split_once('=') else { continue };
        match kind {
            "m" => {
                in_audio = value.starts_with("audio ");
                if in_audio && !seen_audio {
                    seen_audio = true;
                    let mut parts = value.split_whitespace().skip(1);
                    let p = parts.next().ok_or_else(|| SdpError::Bad(line.into()))?;
                    port = Some(p.split('/').next().unwrap_or(p).parse().map_err(|_| SdpError::Bad(line.into()))?);
                    let _proto = parts.next();
                    payloads = parts.filter_map(|pt| pt.parse::<u8>().ok()).collect();
                } else if in_audio {
                    // Only the first audio stream is used.
                    in_audio = false;
                }
            }
            "c" => {
                let addr = value.split_whitespace().nth(2).ok_or_else(|| SdpError::Bad(line.into()))?;
                let addr = addr.split('/').next().unwrap_or(addr);
                let ip: IpAddr = addr.parse().map_err(|_| SdpError::Bad(line.into()))?;
                if ip.is_unspecified() {
                    zero_addr = true;
                }
                if seen_audio && in_audio {
                    media_addr = Some(ip);
                } else if !seen_audio {
                    session_addr = Some(ip);
                }
            }
            "a" if in_audio || !seen_audio => {
                if let Some(map) = value.strip_prefix("rtpmap:") {
                    let mut it = map.split_whitespace();
                    let pt = it.next().and_then(|p| p.parse::<u8>().ok());
                    let enc = it.next().unwrap_or("");
                    if enc.to_ascii_lowercase().starts_with("telephone-event/8000") {
                        dtmf_pt = pt;
                    }
                } else {
                    match value {
                        "sendrecv" => direction = Direction::SendRecv,
                        "sendonly" => direction = Direction::SendOnly,
                        "recvonly" => direction = Direction::RecvOnly,
                        "inactive" => direction = Direction::Inactive,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let port = port.ok_or(SdpError::NoAudio)?;
    let ip = media_addr.or(session_addr).ok_or_else(|| SdpError::Bad("no connection address (c=)".into()))?;
    let rtp = if ip.is_unspecified() || port == 0 || zero_addr && media_addr.is_none_or(|a| a.is_unspecified()) {
        None
    } else {
        Some(SocketAddr::new(ip, port))
    };
    Ok(Remote { rtp, payloads, dtmf_pt, direction })
}

/// Our description: one audio stream at `local`, the given codecs in order
/// of preference, telephone events, and a direction.
pub fn build(
    local: SocketAddr,
    session_id: u64,
    version: u64,
    codecs: &[Codec],
    dtmf_pt: u8,
    dir: Direction,
) -> Vec<u8> {
    let ip = local.ip();
    let family = if ip.is_ipv6() { "IP6" } else { "IP4" };
    let mut pts: Vec<String> = codecs.iter().map(|c| c.payload_type().to_string()).collect();
    pts.push(dtmf_pt.to_string());
    let mut s = format!(
        "v=0\r\no=switchboard {session_id} {version} IN {family} {ip}\r\ns=switchboard\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
         m=audio {} RTP/AVP {}\r\n",
        local.port(),
        pts.join(" ")
    );
    for c in codecs {
        s.push_str(&format!("a=rtpmap:{} {}/8000\r\n", c.payload_type(), c.name()));
    }
    s.push_str(&format!("a=rtpmap:{dtmf_pt} telephone-event/8000\r\na=fmtp:{dtmf_pt} 0-16\r\na=ptime:20\r\n"));
    s.push_str(&format!("a={}\r\n", dir.attr()));
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PJSIP: &str = "v=0\r\no=- 3913 3913 IN IP4 127.0.0.1\r\ns=pjmedia\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
        m=audio 4000 RTP/AVP 8 0 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\na=sendrecv\r\n";

    #[test]
    fn reads_an_offer() {
        let r = parse(PJSIP.as_bytes()).unwrap();
        assert_eq!(r.rtp, Some("127.0.0.1:4000".parse().unwrap()));
        assert_eq!(r.payloads, vec![8, 0, 96]);
        assert_eq!(r.codec(), Some(Codec::Pcma));
        assert_eq!(r.dtmf_pt, Some(96));
        assert!(!r.is_hold());
    }

    #[test]
    fn hold_offers() {
        let held = PJSIP.replace("a=sendrecv", "a=sendonly");
        assert!(parse(held.as_bytes()).unwrap().is_hold());
        let zero = PJSIP.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0");
        let r = parse(zero.as_bytes()).unwrap();
        assert!(r.is_hold() && r.rtp.is_none());
    }

    #[test]
    fn refuses_what_is_not_audio() {
        assert_eq!(parse(b"v=0\r\n"), Err(SdpError::NoAudio));
        assert!(parse(&[0xff, 0xfe]).is_err());
        assert!(parse(b"v=0\r\nm=audio x RTP/AVP 0\r\n").is_err());
        assert!(parse(b"v=0\r\nc=IN IP4 nonsense\r\nm=audio 4000 RTP/AVP 0\r\n").is_err());
    }

    #[test]
    fn builds_what_it_reads() {
        let body =
            build("127.0.0.1:30000".parse().unwrap(), 7, 1, &[Codec::Pcmu, Codec::Pcma], DTMF_PT, Direction::SendRecv);
        let r = parse(&body).unwrap();
        assert_eq!(r.rtp, Some("127.0.0.1:30000".parse().unwrap()));
        assert_eq!(r.payloads, vec![0, 8, DTMF_PT]);
        assert_eq!(r.dtmf_pt, Some(DTMF_PT));
        assert_eq!(r.direction, Direction::SendRecv);
    }
}
