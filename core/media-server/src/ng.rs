// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! rtpengine's ng control protocol: a request is one UDP datagram `COOKIE DICT`, the dictionary
//! bencoded with a `command` key; the reply is `COOKIE DICT` with `result` "ok" (or "pong"),
//! "error" with `error-reason`, or "warning". A reply counts only when it comes from the
//! server's address and carries this request's cookie, so forged or replayed replies are
//! ignored; a request is sent again after each [`Client::timeout`] and fails after
//! [`Client::attempts`].

use serde_bencode::value::Value;
use std::collections::HashMap;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

/// A reply's dictionary.
pub type Dict = HashMap<Vec<u8>, Value>;

/// Why a request failed. Every variant names the server and the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NgError {
    /// The server address does not resolve, or no socket could be made.
    Address { server: String, detail: String },
    /// No reply after every attempt.
    Unreachable {
        server: String,
        command: String,
        waited: Duration,
    },
    /// The server answered "error".
    Refused {
        server: String,
        command: String,
        reason: String,
    },
    /// The server answered something that is not an ng reply, or lacks what the command needs.
    Malformed {
        server: String,
        command: String,
        detail: String,
    },
}

impl fmt::Display for NgError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Self::Address { server, detail } => {
                write!(f, "media server {server}: {detail}")
            }
            Self::Unreachable {
                server,
                command,
                waited,
            } => write!(
                f,
                "media server {server} did not answer '{command}' within {:.1} s (is rtpengine running with --listen-ng={server}?)",
                waited.as_secs_f64()
            ),
            Self::Refused {
                server,
                command,
                reason,
            } => write!(f, "media server {server} refused '{command}': {reason}"),
            Self::Malformed {
                server,
                command,
                detail,
            } => write!(f, "media server {server} answered '{command}' with {detail}"),
        }
    }
}

impl std::error::Error for NgError {}

/// A client of one ng server.
#[derive(Debug)]
pub struct Client {
    server: SocketAddr,
    name: String,
    socket: UdpSocket,
    /// How long to wait for a reply before sending again.
    pub timeout: Duration,
    /// How many times a request is sent before giving up.
    pub attempts: u32,
}

impl Client {
    /// A client of the ng server at `server` ("HOST:PORT").
    pub fn new(server: &str) -> Result<Self, NgError> {
        let address = |detail: String| NgError::Address {
            server: server.to_string(),
            detail,
        };
        let addr = server
            .to_socket_addrs()
            .map_err(|e| address(format!("not a HOST:PORT ({e})")))?
            .next()
            .ok_or_else(|| address("resolves to no address".into()))?;
        let local: SocketAddr = if addr.is_ipv4() {
            "0.0.0.0:0".parse().expect("valid")
        } else {
            "[::]:0".parse().expect("valid")
        };
        let socket = UdpSocket::bind(local).map_err(|e| address(format!("no socket: {e}")))?;
        Ok(Self {
            server: addr,
            name: server.to_string(),
            socket,
            timeout: Duration::from_millis(500),
            attempts: 4,
        })
    }

    /// The server as it was given.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// The local address the server reaches this machine at (the route's source address).
    pub fn local_ip(&self) -> Result<std::net::IpAddr, NgError> {
        let probe = UdpSocket::bind(if self.server.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        })
        .and_then(|s| s.connect(self.server).map(|()| s))
        .and_then(|s| s.local_addr())
        .map_err(|e| NgError::Address {
            server: self.name.clone(),
            detail: format!("no route: {e}"),
        })?;
        Ok(probe.ip())
    }

    /// Sends `command` with `args` and returns the reply's dictionary once `result` is "ok",
    /// "pong" or "warning".
    pub fn request(&self, command: &str, args: Vec<(&str, Value)>) -> Result<Dict, NgError> {
        let mut dict: HashMap<Vec<u8>, Value> = args
            .into_iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v))
            .collect();
        dict.insert(b"command".to_vec(), text(command));
        let cookie = new_cookie();
        let mut datagram = cookie.clone().into_bytes();
        datagram.push(b' ');
        datagram.extend(serde_bencode::to_bytes(&Value::Dict(dict)).map_err(|e| {
            NgError::Malformed {
                server: self.name.clone(),
                command: command.into(),
                detail: format!("a request that cannot be encoded: {e}"),
            }
        })?);
        let started = Instant::now();
        let mut buf = vec![0; 65536];
        for _ in 0..self.attempts.max(1) {
            self.socket
                .send_to(&datagram, self.server)
                .map_err(|e| NgError::Address {
                    server: self.name.clone(),
                    detail: format!("cannot send: {e}"),
                })?;
            let deadline = Instant::now() + self.timeout;
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                if left.is_zero() {
                    break;
                }
                let _ = self.socket.set_read_timeout(Some(left));
                let Ok((n, from)) = self.socket.recv_from(&mut buf) else {
                    break;
                };
                if from != self.server {
                    continue;
                }
                if let Some(reply) = reply_of(&buf[..n], &cookie) {
                    return self.result(command, reply);
                }
            }
        }
        Err(NgError::Unreachable {
            server: self.name.clone(),
            command: command.into(),
            waited: started.elapsed(),
        })
    }

    fn result(&self, command: &str, reply: Dict) -> Result<Dict, NgError> {
        match bytes_of(&reply, "result").as_deref() {
            Some("ok" | "pong" | "warning") => Ok(reply),
            Some("error") => Err(NgError::Refused {
                server: self.name.clone(),
                command: command.into(),
                reason: bytes_of(&reply, "error-reason").unwrap_or_else(|| "no reason".into()),
            }),
            other => Err(NgError::Malformed {
                server: self.name.clone(),
                command: command.into(),
                detail: format!("result {other:?}"),
            }),
        }
    }

    /// An error of `command` for a reply that lacks what it needs.
    pub fn malformed(&self, command: &str, detail: impl Into<String>) -> NgError {
        NgError::Malformed {
            server: self.name.clone(),
            command: command.into(),
            detail: detail.into(),
        }
    }
}

/// A bencoded string.
pub fn text(s: &str) -> Value {
    Value::Bytes(s.as_bytes().to_vec())
}

/// A list of bencoded strings.
pub fn texts(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| text(s)).collect())
}

/// A reply's string field.
pub fn bytes_of(dict: &Dict, key: &str) -> Option<String> {
    match dict.get(key.as_bytes())? {
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// The dictionary of `datagram` when it is the reply to `cookie`.
pub fn reply_of(datagram: &[u8], cookie: &str) -> Option<Dict> {
    let rest = datagram
        .strip_prefix(cookie.as_bytes())?
        .strip_prefix(b" ")?;
    match serde_bencode::from_bytes::<Value>(rest).ok()? {
        Value::Dict(d) => Some(d),
        _ => None,
    }
}

/// A fresh random cookie: 16 hex digits.
fn new_cookie() -> String {
    let mut random = [0; 8];
    getrandom::fill(&mut random).expect("system randomness");
    random.iter().map(|b| format!("{b:02x}")).collect()
}
