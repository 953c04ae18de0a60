// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `pixelmeet-relay --participants HOST:LISTEN,... --port P [--seconds N]`: see the library
//! documentation; `pipelines/relay` runs it. A line a second on standard error says what was
//! forwarded and refused.

use clap::Parser;
use pixelmeet_relay::{Participant, Relay};
use std::time::Duration;

#[derive(Parser)]
#[command(
    about = "Forwards each pixelmeet participant's media to the others, only from the participants' addresses"
)]
struct Args {
    /// Each slot's HOST:LISTEN, in slot order (slot 0 first), comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    participants: Vec<String>,
    /// The relay's first port: slot K uses port+10K to port+10K+5.
    #[arg(long, default_value_t = 7000, value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
    /// Stop after this many seconds (0: run until stopped).
    #[arg(long, default_value_t = 0)]
    seconds: u64,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("pixelmeet-relay: {e}");
        std::process::exit(2);
    }
}

fn run(args: &Args) -> Result<(), String> {
    let participants = args
        .participants
        .iter()
        .map(|entry| {
            let (host, listen) = entry
                .rsplit_once(':')
                .ok_or_else(|| format!("--participants wants HOST:LISTEN, not {entry:?}"))?;
            let listen = listen
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| format!("{entry:?}: LISTEN must be a port, 1 to 65535"))?;
            Participant::resolve(host, listen)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut relay = Relay::bind(
        std::net::Ipv4Addr::UNSPECIFIED.into(),
        args.port,
        &participants,
    )?;
    eprintln!(
        "pixelmeet relay: {} participants on ports {}-{}",
        participants.len(),
        args.port,
        u32::from(args.port) + 10 * participants.len() as u32 - 1
    );
    let mut elapsed = 0;
    while args.seconds == 0 || elapsed < args.seconds {
        relay
            .run_for(Duration::from_secs(1))
            .map_err(|e| format!("polling failed: {e}"))?;
        elapsed += 1;
        let s = relay.stats();
        eprintln!(
            "{elapsed:6}s relay: forwarded {} packets ({} KB), refused {} not from a participant",
            s.forwarded,
            s.forwarded_bytes / 1024,
            s.refused
        );
    }
    Ok(())
}
