// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The little SDP (RFC 8866) a participant exchanges with the media server: where it sends or
//! receives each medium (address, RTP port, RTCP port) and the payload types.

use std::net::IpAddr;

/// What a media section is for, from the participant's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendOnly,
    RecvOnly,
}

impl Direction {
    fn attribute(self) -> &'static str {
        match self {
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
        }
    }
}

/// One media section: `m=KIND PORT RTP/AVP PT`, its RTCP port and its one payload type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// "video" or "audio".
    pub kind: String,
    pub rtp_port: u16,
    pub rtcp_port: u16,
    pub payload_type: u8,
    /// `a=rtpmap` after the payload type: "X-PIXELDIFF/90000", "opus/48000/2".
    pub rtpmap: String,
}

/// A session description with one address for every media section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    pub address: IpAddr,
    pub media: Vec<Media>,
}

impl Description {
    /// The SDP text, every section `direction`; with picture-loss feedback on video.
    pub fn to_sdp(&self, direction: Direction) -> String {
        let family = if self.address.is_ipv4() { "IP4" } else { "IP6" };
        let mut sdp = format!(
            "v=0\r\no=- {id} 1 IN {family} {a}\r\ns=pixelmeet\r\nc=IN {family} {a}\r\nt=0 0\r\n",
            id = std::process::id(),
            a = self.address,
        );
        for m in &self.media {
            sdp.push_str(&format!(
                "m={kind} {port} RTP/AVP {pt}\r\na=rtpmap:{pt} {map}\r\na=rtcp:{rtcp}\r\na={dir}\r\n",
                kind = m.kind,
                port = m.rtp_port,
                pt = m.payload_type,
                map = m.rtpmap,
                rtcp = m.rtcp_port,
                dir = direction.attribute(),
            ));
            if m.kind == "video" {
                sdp.push_str(&format!("a=rtcp-fb:{} nack pli\r\n", m.payload_type));
            }
        }
        sdp
    }

    /// The address and ports of an SDP text (session or media `c=` lines, `a=rtcp`, else RTP
    /// port + 1); `None` when it has no address or a media line is not `m=KIND PORT PROTO PT..`.
    pub fn parse(sdp: &str) -> Option<Self> {
        let mut address = None;
        let mut media: Vec<Media> = Vec::new();
        for line in sdp.lines().map(str::trim) {
            if let Some(c) = line.strip_prefix("c=") {
                let a: IpAddr = c.split_whitespace().nth(2)?.parse().ok()?;
                if media.is_empty() || address.is_none() {
                    address = Some(a);
                }
            } else if let Some(m) = line.strip_prefix("m=") {
                let mut words = m.split_whitespace();
                let kind = words.next()?.to_string();
                let port: u16 = words.next()?.parse().ok()?;
                let _proto = words.next()?;
                let payload_type: u8 = words.next().and_then(|p| p.parse().ok()).unwrap_or(0);
                media.push(Media {
                    kind,
                    rtp_port: port,
                    rtcp_port: port.checked_add(1)?,
                    payload_type,
                    rtpmap: String::new(),
                });
            } else if let (Some(a), Some(m)) = (line.strip_prefix("a=rtcp:"), media.last_mut()) {
                m.rtcp_port = a.split_whitespace().next()?.parse().ok()?;
            } else if let (Some(a), Some(m)) = (line.strip_prefix("a=rtpmap:"), media.last_mut()) {
                if let Some((_, map)) = a.split_once(' ') {
                    if m.rtpmap.is_empty() {
                        m.rtpmap = map.to_string();
                    }
                }
            }
        }
        Some(Self {
            address: address?,
            media,
        })
    }

    /// The section of `kind`.
    pub fn medium(&self, kind: &str) -> Option<&Media> {
        self.media.iter().find(|m| m.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_round_trips_through_its_sdp() {
        let d = Description {
            address: "127.0.0.1".parse().unwrap(),
            media: vec![
                Media {
                    kind: "video".into(),
                    rtp_port: 6000,
                    rtcp_port: 6004,
                    payload_type: 96,
                    rtpmap: "X-PIXELDIFF/90000".into(),
                },
                Media {
                    kind: "audio".into(),
                    rtp_port: 6002,
                    rtcp_port: 6005,
                    payload_type: 111,
                    rtpmap: "opus/48000/2".into(),
                },
            ],
        };
        let sdp = d.to_sdp(Direction::SendOnly);
        assert!(sdp.contains("a=sendonly") && sdp.contains("a=rtcp-fb:96 nack pli"));
        assert_eq!(Description::parse(&sdp), Some(d));
    }

    #[test]
    fn rtcp_defaults_to_the_next_port_and_junk_is_refused() {
        let d = Description::parse("v=0\nc=IN IP4 10.0.0.1\nm=video 30000 RTP/AVP 96\n").unwrap();
        assert_eq!(d.medium("video").unwrap().rtcp_port, 30001);
        assert_eq!(
            Description::parse("m=video x RTP/AVP 96\nc=IN IP4 1.2.3.4"),
            None
        );
        assert_eq!(Description::parse("v=0\nm=video 5 RTP/AVP 96\n"), None);
        assert_eq!(
            Description::parse("c=IN IP4 1.2.3.4\nm=video 65535 RTP/AVP 96"),
            None
        );
    }
}
