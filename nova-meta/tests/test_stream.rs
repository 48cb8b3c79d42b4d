//! The stream contract of `nova_meta::run`: what counts as blank, and that
//! every answer is handed over before the next read may block, however the
//! input arrives.

use std::cell::RefCell;
use std::io::{self, BufRead, Read, Write};
use std::rc::Rc;

const REQUEST: &str = r#"{"op": "remove_shelved_keys", "system_metadata": {"shelved_at": "t", "a": "b"}}"#;

/// Output that counts the answer lines handed over (flushed) so far.
#[derive(Clone, Default)]
struct Flushed {
    written: Rc<RefCell<Vec<u8>>>,
    flushed: Rc<RefCell<usize>>,
}

impl Write for Flushed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        *self.flushed.borrow_mut() = self.written.borrow().iter().filter(|&&b| b == b'\n').count();
        Ok(())
    }
}

/// Input that arrives in the given reads. Before each read it checks that every answer to a line completed by
/// the earlier reads was flushed: a read may block, and the caller waits
/// for those answers.
struct Chunks {
    chunks: Vec<Vec<u8>>,
    next: usize,
    buf: Vec<u8>,
    at: usize,
    /// Lines completed so far that are not blank (each owes an answer).
    complete_lines: usize,
    line_is_blank: bool,
    out: Flushed,
}

impl Chunks {
    fn new(chunks: &[&[u8]], out: Flushed) -> Self {
        Self {
            chunks: chunks.iter().map(|c| c.to_vec()).collect(),
            next: 0,
            buf: Vec::new(),
            at: 0,
            complete_lines: 0,
            line_is_blank: true,
            out,
        }
    }
}

impl Read for Chunks {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Chunks {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.at == self.buf.len() && self.next < self.chunks.len() {
            // This read would block on a real pipe.
            let flushed = *self.out.flushed.borrow();
            assert!(
                flushed >= self.complete_lines,
                "read {} would block with {} answers flushed of {} complete lines",
                self.next,
                flushed,
                self.complete_lines
            );
            self.buf = std::mem::take(&mut self.chunks[self.next]);
            self.next += 1;
            self.at = 0;
        }
        Ok(&self.buf[self.at..])
    }
    fn consume(&mut self, n: usize) {
        for &b in &self.buf[self.at..self.at + n] {
            match b {
                b'\n' => {
                    self.complete_lines += usize::from(!self.line_is_blank);
                    self.line_is_blank = true;
                }
                b' ' | b'\t' | b'\r' => {}
                _ => self.line_is_blank = false,
            }
        }
        self.at += n;
    }
}

fn run_chunks(chunks: &[&[u8]]) -> Vec<String> {
    let out = Flushed::default();
    let input = Chunks::new(chunks, out.clone());
    nova_meta::run(input, out.clone()).unwrap();
    let text = String::from_utf8(out.written.borrow().clone()).unwrap();
    text.lines().map(str::to_owned).collect()
}

#[test]
fn an_answer_is_flushed_when_the_next_line_starts_in_the_same_read() {
    let first = format!("{REQUEST}\n{}", &REQUEST[..10]);
    let second = format!("{}\n", &REQUEST[10..]);
    let answers = run_chunks(&[first.as_bytes(), second.as_bytes(), b"\n"]);
    assert_eq!(answers.len(), 2);
    assert!(answers.iter().all(|a| a == r#"{"ok":{"a":"b"}}"#), "{answers:?}");
}

#[test]
fn lines_split_anywhere_are_answered_once_each_in_order() {
    let text = format!("{REQUEST}\n\n{REQUEST}\r\nnot json\n{REQUEST}");
    let bytes = text.as_bytes();
    for cut in 1..bytes.len() {
        let answers = run_chunks(&[&bytes[..cut], &bytes[cut..]]);
        assert_eq!(answers.len(), 4, "cut at {cut}: {answers:?}");
        assert!(answers[2].contains("invalid_json"), "cut at {cut}: {answers:?}");
    }
    // One byte a read.
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(run_chunks(&singles).len(), 4);
}

#[test]
fn blank_means_json_whitespace_only() {
    let answers = run_chunks(&[b" \t\r\n\n\x0c\n \x0b \n\xc2\xa0\n"]);
    // Space, tab and CR are blank; a form feed, a vertical tab and a
    // no-break space are not, and each gets an error answer.
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert!(
        answers.iter().all(|a| a.contains(r#""kind":"invalid_json""#)),
        "{answers:?}"
    );
}

#[test]
fn a_request_id_is_echoed_with_its_text_on_ok_and_error() {
    let answers = run_chunks(&[
        br#"{"id": 123456789012345678901234567890, "op": "remove_shelved_keys", "system_metadata": {}}
{"op": "remove_shelved_keys", "id": {"k": [1, "x"]}, "system_metadata": {}, "flavour": null}
{"id": "x", "op": "nope"}
"#,
    ]);
    assert_eq!(answers[0], r#"{"id":123456789012345678901234567890,"ok":{}}"#);
    assert!(
        answers[1].starts_with(r#"{"id":{"k": [1, "x"]},"error":{"kind":"invalid_request""#),
        "{}",
        answers[1]
    );
    assert!(answers[1].contains("flavour"), "{}", answers[1]);
    assert!(
        answers[2].starts_with(r#"{"id":"x","error":{"kind":"unknown_op""#),
        "{}",
        answers[2]
    );
}

#[test]
fn every_modelled_release_is_computed_and_no_other() {
    let answers = run_chunks(&[
        br#"{"op": "ensure_base_image_ref", "system_metadata": {}, "image_ref": "b", "release": "34.0.0"}
{"op": "ensure_base_image_ref", "system_metadata": {}, "image_ref": "b", "release": "16.1.8"}
{"op": "ensure_base_image_ref", "system_metadata": {}, "image_ref": "b", "release": "15.1.5"}
{"op": "ensure_base_image_ref", "system_metadata": {}, "image_ref": "b", "release": "35.0.0"}
{"op": "ensure_base_image_ref", "system_metadata": {}, "image_ref": "b", "release": "34"}
{"op": "ensure_base_image_ref", "system_metadata": {}, "image_ref": "b", "release": 34}
{"op": "reset_image_metadata", "system_metadata": {}, "image": {}, "image_id": "b", "release": "21.2.0"}
{"op": "reset_image_metadata", "system_metadata": {}, "image": {}, "image_id": "b", "release": "21.2.1"}
"#,
    ]);
    assert_eq!(answers[0], r#"{"ok":{"image_base_image_ref":"b"}}"#);
    // Pike's resize did not heal (from 23.0.0 it does).
    assert_eq!(answers[1], r#"{"ok":{}}"#);
    for answer in &answers[2..6] {
        assert!(answer.contains(r#""kind":"invalid_value""#), "{answer}");
        assert!(answer.contains("release"), "{answer}");
    }
    assert_eq!(
        answers[6],
        r#"{"ok":{"system_metadata":{},"orig_system_metadata":{}}}"#
    );
    assert_eq!(
        answers[7],
        r#"{"ok":{"system_metadata":{"image_base_image_ref":"b"},"orig_system_metadata":{}}}"#
    );
}
