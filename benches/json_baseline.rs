//! The batch speed report's baseline: what serde_json alone costs on a
//! JSON Lines file, with the features `nova_meta` is built with.
//!
//! `scripts/bench --batch` runs it on the same 100,000 requests it gives
//! `nova_meta`, to show how much of a speed target the JSON layer leaves:
//!
//! ```text
//! cargo run --release -p nova-sysmeta-benches --bin json_baseline -- FILE
//! scan 0.20 s
//! value 0.93 s
//! round_trip 1.06 s
//! ```
//!
//! - `scan`: each line checked as JSON, nothing built (`IgnoredAny`);
//! - `value`: each line read into a `serde_json::Value`;
//! - `round_trip`: each line read into a `Value` and written back out.
//!
//! A line a `Value` cannot hold (`1E400`) is read up to its error and
//! skipped by the last two.
//!
//! Each figure is the best of three passes over the file, read into memory
//! first.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::de::IgnoredAny;
use serde_json::Value;

/// One pass over the file.
type Pass<'a> = &'a mut dyn FnMut() -> Result<(), serde_json::Error>;

fn best_of_three(
    mut pass: impl FnMut() -> Result<(), serde_json::Error>,
) -> Result<Duration, serde_json::Error> {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        pass()?;
        best = best.min(start.elapsed());
    }
    Ok(best)
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: json_baseline FILE");
        return ExitCode::FAILURE;
    };
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("json_baseline: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lines = || text.split(|&b| b == b'\n').filter(|line| !line.is_empty());
    let mut out = Vec::with_capacity(1 << 16);
    let passes: [(&str, Pass<'_>); 3] = [
        ("scan", &mut || {
            lines().try_for_each(|line| serde_json::from_slice::<IgnoredAny>(line).map(drop))
        }),
        // A line serde_json's `Value` cannot hold (a number past f64, as
        // `1E400`, which Python and nova_meta read as `inf`) is read up to
        // its error and skipped: serde_json alone can do no more with it.
        ("value", &mut || {
            lines().for_each(|line| drop(std::hint::black_box(serde_json::from_slice::<Value>(line))));
            Ok(())
        }),
        ("round_trip", &mut || {
            lines().try_for_each(|line| {
                let Ok(value) = serde_json::from_slice::<Value>(line) else {
                    return Ok(());
                };
                out.clear();
                serde_json::to_writer(&mut out, &value)?;
                out.push(b'\n');
                std::hint::black_box(&out);
                Ok(())
            })
        }),
    ];
    for (name, pass) in passes {
        match best_of_three(pass) {
            Ok(time) => println!("{name} {:.2} s", time.as_secs_f64()),
            Err(e) => {
                eprintln!("json_baseline: {path}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let _ = std::io::stdout().flush();
    ExitCode::SUCCESS
}
