// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! pixelmeet's measurements, behind the `*-bench` programs and BENCHMARKS.md: Y4M clips,
//! rate-distortion and CPU of encoder pairs, composites with hand-marked regions, face photos,
//! owner scenes and identity samples, tables, plots and contact sheets.

pub mod composite;
pub mod contact;
pub mod faces;
pub mod identity;
pub mod owner_scene;
pub mod plot;
pub mod rd;
pub mod regions;
pub mod stamp;
pub mod table;
pub mod y4m;

/// A bench program's `main`: `parse` the arguments (`None`: the user asked for `usage`), then
/// `run`. A bad command line exits with 2 and the usage, a failed run with 1; both say why.
pub fn bench_main<O>(
    program: &str,
    usage: &str,
    parse: impl FnOnce(Vec<String>) -> Result<Option<O>, rd::Error>,
    run: impl FnOnce(&O) -> Result<(), rd::Error>,
) -> std::process::ExitCode {
    use std::process::ExitCode;
    let opts = match parse(std::env::args().skip(1).collect()) {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{program}: {e}\n\n{usage}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Command-line words of `s` split at white space, for the programs' argument tests.
pub fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}
