//! `nova_meta`: the crate behind a JSON Lines interface.
//!
//! Reads one request object per line on standard input and writes one
//! result line per request, in order, on standard output: `{"ok": ...}` or
//! `{"error": {"kind": ..., "message": ...}}`. The contract is in the
//! project's README ("The nova_meta JSON Lines interface").
//!
//! ```text
//! $ echo '{"op": "system_metadata_from_image", "image": {"properties": {"a": true}}}' \
//!     | cargo run -q --release --example nova_meta
//! {"ok":{"image_a":"True"}}
//! ```

mod ops;
mod request;

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;

use request::Failure;

fn main() -> ExitCode {
    // A panic would be a bug in the crate; it is reported as an error line
    // (kind `internal`) instead of killing the stream, and not printed twice.
    std::panic::set_hook(Box::new(|_| {}));
    match run(io::stdin().lock(), io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(141),
        Err(e) => {
            eprintln!("nova_meta: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(input: impl Read, output: impl Write) -> io::Result<()> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let mut out = BufWriter::with_capacity(64 * 1024, output);
    let mut line = Vec::new();
    // One answer buffer for the whole stream: results are written into it.
    let mut answer = Vec::new();
    loop {
        // Flush before a read that may block, so an interactive caller gets
        // each answer without waiting for more input.
        if input.buffer().is_empty() {
            out.flush()?;
        }
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        answer.clear();
        if catch_unwind(AssertUnwindSafe(|| ops::write_answer(&line, &mut answer))).is_err() {
            answer.clear();
            let failure = Failure::new("internal", "the request made nova_meta fail; please report it");
            answer.extend_from_slice(failure.to_line().as_bytes());
        }
        answer.push(b'\n');
        out.write_all(&answer)?;
    }
    out.flush()
}
