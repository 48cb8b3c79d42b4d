//! `nova_meta`: reads JSON Lines requests on standard input (or from the
//! files named) and writes one answer line per request on standard output.
//! See the crate documentation of `nova_meta` and the project's README.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};

/// Nova's system-metadata lifecycle as JSON Lines: one request object per
/// input line, one answer line per request, in order.
///
/// Each answer is {"ok": RESULT} or {"error": {"kind": KIND, "message":
/// TEXT}}, with the request's "id" echoed. A bad line gets an error line
/// and the stream goes on. Every request may name the Nova "release" whose
/// behaviour to compute ("16.1.8" to "34.x"; default "34.0.0"). The ops and
/// their fields follow (a field marked ? is optional).
#[derive(Parser)]
#[command(name = "nova_meta", version)]
struct Args {
    /// Files of requests, read in turn; standard input when none is given
    /// (or for "-").
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    // The ops come from the table the dispatcher reads.
    let matches = Args::command().after_help(nova_meta::table::help()).get_matches();
    let args = match Args::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    // A panic would be a bug in the crate; it is answered as an error line
    // (kind `internal`, with its message and place), not printed.
    std::panic::set_hook(nova_meta::panic_hook());
    let result = if args.files.is_empty() {
        nova_meta::run(io::stdin().lock(), io::stdout().lock())
    } else {
        args.files.iter().try_for_each(|path| {
            if path.as_os_str() == "-" {
                return nova_meta::run(io::stdin().lock(), io::stdout().lock());
            }
            let file =
                File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            nova_meta::run(file, io::stdout().lock())
        })
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(141),
        Err(e) => {
            eprintln!("nova_meta: {e}");
            ExitCode::FAILURE
        }
    }
}
