// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! `pixelmeet-media-server [--ng-port P] [--ports A-B] [--seconds N]`: a local rtpengine on
//! 127.0.0.1 for demos and tests (see `media_server::local`); `pipelines/media-server` runs it.
//! It prints where its ng socket is once rtpengine answers, then a line every 5 s, and stops
//! rtpengine when it ends (after --seconds, or on Ctrl+C). Exit codes: 0 done, 1 rtpengine
//! failed, 2 bad options or rtpengine missing.

use clap::Parser;
use media_server::local::LocalServer;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Runs a local rtpengine on 127.0.0.1 as pixelmeet's media server")]
struct Args {
    /// Port of rtpengine's ng control socket.
    #[arg(long, default_value_t = 22230, value_parser = clap::value_parser!(u16).range(1..))]
    ng_port: u16,
    /// Media ports, FIRST-LAST (two per participant and medium, and two per subscription).
    #[arg(long, default_value = "30000-30999")]
    ports: String,
    /// Stop after this many seconds (0: run until stopped).
    #[arg(long, default_value_t = 0)]
    seconds: u64,
    /// rtpengine's log.
    #[arg(long, default_value = "/tmp/pixelmeet-rtpengine.log")]
    log: std::path::PathBuf,
}

fn main() {
    let args = Args::parse();
    let ports = args
        .ports
        .split_once('-')
        .and_then(|(a, b)| Some((a.parse::<u16>().ok()?, b.parse::<u16>().ok()?)))
        .filter(|(a, b)| a < b && *a >= 1024);
    let Some(ports) = ports else {
        eprintln!(
            "pixelmeet-media-server: --ports wants FIRST-LAST above 1023, not {:?}",
            args.ports
        );
        std::process::exit(2);
    };
    let mut server = match LocalServer::start_on(args.ng_port, ports, args.log.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pixelmeet-media-server: {e}");
            std::process::exit(if media_server::local::binary().is_none() {
                2
            } else {
                1
            });
        }
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || stop.store(true, std::sync::atomic::Ordering::Relaxed));
    }
    eprintln!(
        "pixelmeet media server: rtpengine on 127.0.0.1, ng {}, media ports {}-{}, log {}",
        server.ng,
        ports.0,
        ports.1,
        args.log.display()
    );
    let started = Instant::now();
    let mut said = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed)
        && (args.seconds == 0 || started.elapsed() < Duration::from_secs(args.seconds))
    {
        if !server.running() {
            eprintln!(
                "pixelmeet-media-server: rtpengine ended; its log: {}",
                args.log.display()
            );
            std::process::exit(1);
        }
        let s = started.elapsed().as_secs();
        if s >= said + 5 {
            said = s;
            let cpu = server.cpu_time().unwrap_or_default();
            eprintln!(
                "{s:6}s media server: rtpengine CPU {:.2} s",
                cpu.as_secs_f64()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
