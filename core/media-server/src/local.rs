// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! A local rtpengine for tests, demos and benchmarks: Debian's `rtpengine-daemon` binary,
//! started in the foreground on 127.0.0.1 with userspace forwarding only (no kernel module),
//! no configuration file, its own ng port and media port range, and ended when dropped. The
//! system daemon the package installs is not used.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Room;

/// Where Debian puts the binary, and the names to look for on PATH.
const CANDIDATES: [&str; 2] = ["/usr/bin/rtpengine", "/usr/sbin/rtpengine"];

/// The rtpengine binary, if installed.
pub fn binary() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("rtpengine"))
        .chain(CANDIDATES.iter().map(PathBuf::from))
        .find(|p| p.is_file())
}

/// How to install it, for messages.
pub const INSTALL_HINT: &str =
    "rtpengine is not installed (apt-get install rtpengine-daemon; scripts/setup.sh --media-server does it)";

/// A running local rtpengine.
#[derive(Debug)]
pub struct LocalServer {
    child: Child,
    /// "127.0.0.1:PORT" of its ng control socket.
    pub ng: String,
    /// Its media ports.
    pub ports: (u16, u16),
    pub log: PathBuf,
}

impl LocalServer {
    /// Starts rtpengine on 127.0.0.1 with an ng port and `count` media ports that were free, and
    /// waits until it answers a ping (at most 10 s). Its log goes to `log`.
    pub fn start(count: u16, log: PathBuf) -> Result<Self, String> {
        let ng_port = free_udp_port()?;
        let first = free_range(count)?;
        Self::start_on(ng_port, (first, first + count - 1), log)
    }

    /// A server for the test or benchmark `name` (its log in the temp directory), or `None`,
    /// saying why on stderr, where rtpengine is not installed. Panics when it is installed but
    /// does not start: that is a failure, not a reason to skip.
    pub fn for_test(name: &str) -> Option<Self> {
        if binary().is_none() {
            eprintln!("skipped: {INSTALL_HINT}");
            return None;
        }
        let log = std::env::temp_dir().join(format!("rtpengine-{name}-{}.log", std::process::id()));
        Some(Self::start(400, log).expect("rtpengine starts"))
    }

    /// Starts rtpengine with its ng socket on 127.0.0.1:`ng_port` and media on `ports`.
    pub fn start_on(ng_port: u16, ports: (u16, u16), log: PathBuf) -> Result<Self, String> {
        let binary = binary().ok_or_else(|| INSTALL_HINT.to_string())?;
        if UdpSocket::bind(("127.0.0.1", ng_port)).is_err() {
            return Err(format!(
                "UDP port {ng_port} is busy: choose another --ng-port"
            ));
        }
        let out = std::fs::File::create(&log)
            .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
        let child = Command::new(&binary)
            .args(arguments(ng_port, ports))
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut server = Self {
            child,
            ng: format!("127.0.0.1:{ng_port}"),
            ports,
            log,
        };
        server.wait_ready(Duration::from_secs(10))?;
        Ok(server)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let started = Instant::now();
        let mut room = Room::new(&self.ng, "ready").map_err(|e| e.to_string())?;
        room.client_mut().timeout = Duration::from_millis(200);
        room.client_mut().attempts = 1;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "rtpengine exited at start ({status}); its log: {}",
                    self.log.display()
                ));
            }
            if room.ping().is_ok() {
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(format!(
                    "rtpengine did not answer on {} within {limit:?}; its log: {}",
                    self.ng,
                    self.log.display()
                ));
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Its CPU time so far (user and system, all threads).
    pub fn cpu_time(&self) -> Option<Duration> {
        cpu_time_of(self.pid())
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CPU time (user and system, all threads) of process `pid` so far, from /proc.
pub fn cpu_time_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which ends at the last ')': utime and stime are 14 and 15.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_millis(ticks * 1000 / hz))
}

/// rtpengine's command line: foreground, log to stderr, no configuration file, no kernel
/// forwarding table, 127.0.0.1 only.
pub fn arguments(ng_port: u16, (first, last): (u16, u16)) -> Vec<String> {
    vec![
        "--config-file=none".into(),
        "--foreground".into(),
        "--log-stderr".into(),
        "--table=-1".into(),
        "--interface=127.0.0.1".into(),
        format!("--listen-ng=127.0.0.1:{ng_port}"),
        format!("--port-min={first}"),
        format!("--port-max={last}"),
        "--log-level=5".into(),
        // One reader per socket: with several, packets of a burst come out reordered.
        "--poller-per-thread".into(),
    ]
}

fn free_udp_port() -> Result<u16, String> {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free UDP port on 127.0.0.1: {e}"))
}

/// Where [`LocalServer::start`] takes its media ports: below the fixed ports of pixelmeet's
/// tests and benchmarks (20000 and up) and below the system's ephemeral ports (32768 and up),
/// so nothing else running takes one of them first.
pub const PORTS: (u16, u16) = (10_000, 20_000);

/// The first of `count` consecutive UDP ports in [`PORTS`] that are free now, from a random
/// start (tests run in parallel, each with its own server).
fn free_range(count: u16) -> Result<u16, String> {
    let mut random = [0; 2];
    getrandom::fill(&mut random).map_err(|e| e.to_string())?;
    let span = PORTS.1 - PORTS.0 - count;
    let mut first = PORTS.0 + u16::from_be_bytes(random) % span;
    for _ in 0..64 {
        if (first..first + count).all(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok()) {
            return Ok(first);
        }
        first = PORTS.0 + (first - PORTS.0 + 997) % span;
    }
    Err(format!(
        "no {count} free UDP ports in {}-{}",
        PORTS.0, PORTS.1
    ))
}
