// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A meeting as rtpengine sees it: one call (the room), in which each participant publishes
//! its video and audio under its own tag, and subscribes to each other participant under a
//! tag of its own, `SUBSCRIBER>PUBLISHER` (subscribing again with it replaces the
//! subscription, so a receiver can renew it as often as it likes).
//!
//! rtpengine forwards RTP whatever its payload type once the codec list accepts any
//! (`codec: accept: [any]`); RTCP from a subscriber reaches the publisher with the flag
//! `RTCP mirror`, a publisher's sender reports reach every subscriber. `strict source` drops
//! what comes from anywhere but the address a participant sends from.

use serde_bencode::value::Value;

use crate::ng::{bytes_of, text, texts, Client, NgError};
use crate::sdp::{Description, Direction};

/// One room on one media server.
#[derive(Debug)]
pub struct Room {
    client: Client,
    room: String,
}

impl Room {
    /// The room `room` on the ng server `server` ("HOST:PORT").
    pub fn new(server: &str, room: &str) -> Result<Self, NgError> {
        Ok(Self {
            client: Client::new(server)?,
            room: room.to_string(),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// To set the client's timeout and attempts.
    pub fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Checks the server answers at all.
    pub fn ping(&self) -> Result<(), NgError> {
        self.client.request("ping", vec![]).map(|_| ())
    }

    /// Publishes `participant`'s media, which leaves from `local` (sendonly); returns where
    /// to send it on the server.
    pub fn publish(&self, participant: &str, local: &Description) -> Result<Description, NgError> {
        let reply = self.client.request(
            "publish",
            vec![
                ("call-id", text(&self.room)),
                ("from-tag", text(participant)),
                ("sdp", text(&local.to_sdp(Direction::SendOnly))),
                ("flags", texts(&["strict source"])),
                ("codec", accept_any()),
            ],
        )?;
        self.description("publish", &reply, local.media.len())
    }

    /// Subscribes `subscriber` to `publisher`'s media, received at `local` (recvonly, one
    /// section per medium the publisher has, in its order); returns where the server sends
    /// from, which is where reports go.
    pub fn subscribe(
        &self,
        subscriber: &str,
        publisher: &str,
        local: &Description,
    ) -> Result<Description, NgError> {
        let tag = subscription_tag(subscriber, publisher);
        let offer = self.client.request(
            "subscribe request",
            vec![
                ("call-id", text(&self.room)),
                ("from-tags", texts(&[publisher])),
                ("to-tag", text(&tag)),
                ("flags", texts(&["RTCP mirror"])),
            ],
        )?;
        // A publisher not in the room is left out of an "ok" reply.
        let present = match offer.get(&b"from-tags"[..]) {
            Some(Value::List(tags)) => tags
                .iter()
                .any(|t| matches!(t, Value::Bytes(b) if b == publisher.as_bytes())),
            _ => bytes_of(&offer, "from-tag").as_deref() == Some(publisher),
        };
        if !present {
            return Err(NgError::Refused {
                server: self.client.name().to_string(),
                command: "subscribe request".into(),
                reason: format!("{publisher} is not in the room"),
            });
        }
        let server = self.description("subscribe request", &offer, 1)?;
        // Answer with our port for each section the server offers, in its order.
        let mut answer = Description {
            address: local.address,
            media: Vec::new(),
        };
        for offered in &server.media {
            let mine = local.medium(&offered.kind).ok_or_else(|| {
                self.client.malformed(
                    "subscribe request",
                    format!("a {} section this receiver has no port for", offered.kind),
                )
            })?;
            answer.media.push(crate::sdp::Media {
                payload_type: offered.payload_type,
                rtpmap: offered.rtpmap.clone(),
                ..mine.clone()
            });
        }
        self.client.request(
            "subscribe answer",
            vec![
                ("call-id", text(&self.room)),
                ("to-tag", text(&tag)),
                ("sdp", text(&answer.to_sdp(Direction::RecvOnly))),
            ],
        )?;
        Ok(server)
    }

    /// Ends `subscriber`'s subscription to `publisher`.
    pub fn unsubscribe(&self, subscriber: &str, publisher: &str) -> Result<(), NgError> {
        self.client
            .request(
                "unsubscribe",
                vec![
                    ("call-id", text(&self.room)),
                    ("to-tag", text(&subscription_tag(subscriber, publisher))),
                ],
            )
            .map(|_| ())
    }

    /// Takes `participant`'s published media out of the room.
    pub fn leave(&self, participant: &str) -> Result<(), NgError> {
        self.client
            .request(
                "delete",
                vec![
                    ("call-id", text(&self.room)),
                    ("from-tag", text(participant)),
                    ("delete-delay", Value::Int(0)),
                ],
            )
            .map(|_| ())
    }

    /// Ends the room: every publication and subscription in it.
    pub fn close(&self) -> Result<(), NgError> {
        self.client
            .request(
                "delete",
                vec![
                    ("call-id", text(&self.room)),
                    ("delete-delay", Value::Int(0)),
                ],
            )
            .map(|_| ())
    }

    fn description(
        &self,
        command: &str,
        reply: &crate::ng::Dict,
        at_least: usize,
    ) -> Result<Description, NgError> {
        let sdp = bytes_of(reply, "sdp")
            .ok_or_else(|| self.client.malformed(command, "no sdp in the reply"))?;
        let d = Description::parse(&sdp).ok_or_else(|| {
            self.client
                .malformed(command, "an SDP without address or ports")
        })?;
        if d.media.len() < at_least || d.media.iter().any(|m| m.rtp_port == 0) {
            return Err(self
                .client
                .malformed(command, "an SDP that refuses a medium (port 0)"));
        }
        Ok(d)
    }
}

/// The tag of `subscriber`'s subscription to `publisher`.
pub fn subscription_tag(subscriber: &str, publisher: &str) -> String {
    format!("{subscriber}>{publisher}")
}

/// rtpengine keeps payload types it does not know only when told to accept any codec.
fn accept_any() -> Value {
    Value::Dict(
        [(b"accept".to_vec(), texts(&["any"]))]
            .into_iter()
            .collect(),
    )
}
