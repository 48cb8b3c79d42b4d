//! `nova_meta`: nova-sysmeta behind a JSON Lines interface.
//!
//! Each non-blank input line is one request object; each gets exactly one
//! answer line, in order: `{"ok": ...}` or `{"error": {"kind": ..., "message":
//! ...}}`, with the request's `id` echoed when it has one. The contract is
//! in the project's README ("The nova_meta JSON Lines interface").
//!
//! ```
//! let input = br#"{"op": "system_metadata_from_image", "image": {"properties": {"a": true}}, "id": 7}"#;
//! let mut output = Vec::new();
//! nova_meta::run(&input[..], &mut output).unwrap();
//! assert_eq!(output, b"{\"id\":7,\"ok\":{\"image_a\":\"True\"}}\n");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ops;
pub mod request;
pub mod table;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use request::Failure;

/// Whether a line is blank: JSON whitespace only (space, tab, carriage
/// return, and the line feed that ends it). A form feed is not blank.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Answers every request line of `input` on `output`.
///
/// An answer is flushed as soon as its line is complete and no further
/// complete line is waiting in what was read, so an interactive caller
/// gets each answer without sending more, even when the start of its next
/// line arrived in the same read; and at the end of input. A last line
/// without a line feed is answered too.
///
/// # Errors
/// Only those of `input` and `output` themselves.
pub fn run(input: impl Read, output: impl Write) -> io::Result<()> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let mut out = io::BufWriter::with_capacity(64 * 1024, output);
    let mut line = Vec::new();
    // One answer buffer for the whole stream: results are written into it.
    let mut answer = Vec::new();
    loop {
        // Before a read that may block (no complete line is buffered),
        // hand over what was answered.
        if !input.buffer().contains(&b'\n') {
            out.flush()?;
        }
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if is_blank(&line) {
            continue;
        }
        answer.clear();
        write_answer_guarded(&line, &mut answer);
        answer.push(b'\n');
        out.write_all(&answer)?;
    }
    out.flush()
}

std::thread_local! {
    /// Where the last panic on this thread happened, as [`panic_hook`]
    /// recorded it.
    static PANIC_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// A panic hook that prints nothing and records where the panic happened,
/// for the `internal` answer that reports it (`nova_meta` installs it;
/// without it the answer still carries the panic's message).
pub fn panic_hook() -> Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> {
    Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
        PANIC_AT.with(|p| *p.borrow_mut() = at);
    })
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

/// The `internal` failure for a panic: its message and, with
/// [`panic_hook`] installed, where it happened.
fn internal(payload: &(dyn std::any::Any + Send)) -> Failure {
    let at = PANIC_AT.with(|p| p.borrow_mut().take());
    let at = at.map(|a| format!(" at {a}")).unwrap_or_default();
    Failure::new(
        "internal",
        format!(
            "the request made nova_meta fail ({}{at}); please report it with the request",
            panic_message(payload)
        ),
    )
}

/// [`ops::write_answer`], with a panic (a bug in the crate) reported as an
/// error line of kind `internal`, saying what and where, instead of ending
/// the stream.
fn write_answer_guarded(line: &[u8], answer: &mut Vec<u8>) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| ops::write_answer(line, answer))) {
        answer.clear();
        answer.extend_from_slice(internal(payload.as_ref()).to_line(None).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_answered_with_what_and_where() {
        let previous = std::panic::take_hook();
        std::panic::set_hook(panic_hook());
        let payload = catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        std::panic::set_hook(previous);
        let failure = internal(payload.as_ref());
        assert_eq!(failure.kind, "internal");
        assert!(failure.message.contains("boom 7"), "{}", failure.message);
        assert!(failure.message.contains("src/lib.rs:"), "{}", failure.message);
        // Without the hook: the message, no place.
        let failure = internal(&"plain");
        assert!(failure.message.contains("(plain)"), "{}", failure.message);
    }
}
