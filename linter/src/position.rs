//! Byte offsets to lines and columns, and back: the one place that counts lines.
//!
//! Lines count from 1, columns characters from 1 (plan errors show byte columns, from
//! [`Position::line_start`]). Two ways in, one counting:
//! - [`Cursor`] scans forward from an earlier position: for a few offsets in a text (an error,
//!   a waiver's line), or many sorted ones ([`positions`]: the findings of a plan, which
//!   `terraform show -json` writes on one line of up to hundreds of megabytes).
//! - [`LineIndex`] keeps where each line starts: for many unsorted offsets in a small file
//!   (the blocks of a `.tf` file) and for the text of a line by number.

use std::ops::Range;
use std::path::PathBuf;

/// A UTF-8 byte-order mark (Windows tools write one; JSON parsers may ignore it).
pub const BOM: char = '\u{FEFF}';

/// Where a finding's resource is written in the Terraform configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    pub column: usize,
    /// Byte range of the block header (`resource "t" "n"`) in the file.
    pub span: Range<usize>,
}

/// The line and column of an offset, as counted by a [`Cursor`] that stopped there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    /// 1-based line.
    pub line: usize,
    /// Byte offset where the line starts.
    pub line_start: usize,
    /// Byte offset of the position.
    pub offset: usize,
    /// Characters from the start of the line (a byte count when the offset is not a character
    /// boundary).
    pub chars: usize,
}

impl Position {
    /// The position of `offset` (clamped to `text`) in `text`.
    pub(crate) fn of(text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let mut cursor = Cursor::START;
        cursor.advance_to(text, offset);
        cursor.position(text, offset)
    }

    /// 1-based column in characters, a byte-order mark at the start of the text not counted.
    pub(crate) fn column(&self, text: &str) -> usize {
        let bom = usize::from(self.line_start == 0 && text.starts_with(BOM));
        self.chars.saturating_sub(bom) + 1
    }
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    Position::of(text, offset).line
}

/// The byte offset of a 1-based line and 1-based byte column (as serde_json reports them, 0
/// when the error is at a newline), clamped to `text`.
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let mut line_start = 0;
    for _ in 1..line {
        match memchr::memchr(b'\n', &text.as_bytes()[line_start..]) {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// Where each line of a file starts: line numbers by binary search, so locating every block
/// of a file costs its length once, not once per block.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        Self { starts }
    }

    /// The 1-based line of byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    /// The byte offset where 1-based `line` starts.
    pub(crate) fn start_of(&self, line: usize) -> usize {
        self.starts[line.saturating_sub(1).min(self.starts.len() - 1)]
    }

    /// The text of 1-based `line`, without its line break.
    pub(crate) fn text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let start = self.start_of(line).min(text.len());
        let end = self.starts.get(line).map_or(text.len(), |&next| next - 1);
        let end = end.clamp(start, text.len());
        text[start..end]
            .strip_suffix('\r')
            .unwrap_or(&text[start..end])
    }

    /// 1-based line and 1-based column (in characters) of the character boundary `offset`.
    pub(crate) fn line_column(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.line_of(offset);
        let line_start = self.start_of(line).min(offset);
        (line, char_starts(text, line_start..offset) + 1)
    }
}

/// The positions of `offsets` (ascending, within `text`) in one pass over the text.
///
/// Lines and characters are counted incrementally from the previous offset, never again from
/// the start of the line: `terraform show -json` writes the whole plan on one line, so
/// recounting would cost the plan's size per offset. The two halves of the text are scanned on
/// two threads when the offsets reach `parallel_from` bytes into it (on one thread, the scan
/// of a 300 MB plan takes ~25 ms).
pub(crate) fn positions(text: &str, offsets: &[usize], parallel_from: usize) -> Vec<Position> {
    let scan_end = offsets.last().copied().unwrap_or(0);
    let split = if scan_end >= parallel_from {
        scan_end / 2
    } else {
        usize::MAX
    };
    let first = offsets.partition_point(|&offset| offset < split);
    let (head, tail) = offsets.split_at(first);

    // The tail is scanned from `split` on another thread, counting from zero; its counts are
    // added to those at `split` once the head's scan has reached it.
    let tail_scan = |cursor: &mut Cursor| -> Vec<Cursor> {
        tail.iter()
            .map(|&offset| {
                cursor.advance_to(text, offset);
                *cursor
            })
            .collect()
    };
    let (head_cursors, at_split, tail_cursors) = std::thread::scope(|scope| {
        let other = (!tail.is_empty() && split != usize::MAX)
            .then(|| scope.spawn(|| tail_scan(&mut Cursor::continuing_at(split))));
        let mut cursor = Cursor::START;
        let head_cursors: Vec<Cursor> = head
            .iter()
            .map(|&offset| {
                cursor.advance_to(text, offset);
                cursor
            })
            .collect();
        let tail_cursors = match other {
            Some(handle) => {
                cursor.advance_to(text, split);
                match handle.join() {
                    Ok(cursors) => cursors,
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            None => tail_scan(&mut cursor),
        };
        (head_cursors, cursor, tail_cursors)
    });
    let continued = split != usize::MAX && !tail.is_empty();
    let tail_cursors = tail_cursors
        .into_iter()
        .map(|c| if continued { c.after(&at_split) } else { c });
    offsets
        .iter()
        .zip(head_cursors.into_iter().chain(tail_cursors))
        .map(|(&offset, cursor)| cursor.position(text, offset))
        .collect()
}

/// Where a scan of the text has got to.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    pos: usize,
    /// Line number (from 1), or, for a scan that started mid-text, newlines seen (from 0).
    line: usize,
    line_start: usize,
    /// Characters in `text[line_start..pos]`, or in `text[start..pos]` before a scan that
    /// started mid-text has seen a newline; counted as the bytes that start one: a count that
    /// adds up across any split.
    chars: usize,
    newline_seen: bool,
}

impl Cursor {
    const START: Self = Self {
        pos: 0,
        line: 1,
        line_start: 0,
        chars: 0,
        newline_seen: true,
    };

    /// A scan from `pos`, to be joined to the one that reaches `pos` with [`Cursor::after`].
    fn continuing_at(pos: usize) -> Self {
        Self {
            pos,
            line: 0,
            line_start: pos,
            chars: 0,
            newline_seen: false,
        }
    }

    /// This cursor, of a scan that started where `prefix` stands, as if one scan had done both.
    fn after(self, prefix: &Self) -> Self {
        if self.newline_seen {
            Self {
                line: prefix.line + self.line,
                ..self
            }
        } else {
            Self {
                pos: self.pos,
                line: prefix.line,
                line_start: prefix.line_start,
                chars: prefix.chars + self.chars,
                newline_seen: prefix.newline_seen,
            }
        }
    }

    /// The position of `target`, which this cursor (of a scan from the start) has reached.
    fn position(self, text: &str, target: usize) -> Position {
        let chars = if text.is_char_boundary(target) {
            self.chars
        } else {
            target - self.line_start
        };
        Position {
            line: self.line,
            line_start: self.line_start,
            offset: target,
            chars,
        }
    }

    fn advance_to(&mut self, text: &str, target: usize) {
        let bytes = text.as_bytes();
        // Block by block, so the newline search and the character count read each block while
        // it is in cache: on a 100 MB plan, reading it from memory twice costs tens of ms.
        while self.pos < target {
            let end = (self.pos + BLOCK).min(target);
            let (newlines, last) = memchr::memchr_iter(b'\n', &bytes[self.pos..end])
                .fold((0, None), |(n, _), i| (n + 1, Some(i)));
            let count_from = match last {
                Some(last) => {
                    self.line += newlines;
                    self.line_start = self.pos + last + 1;
                    self.chars = 0;
                    self.newline_seen = true;
                    self.line_start
                }
                None => self.pos,
            };
            self.chars += char_starts(text, count_from..end);
            self.pos = end;
        }
    }
}

/// Bytes a [`Cursor`] scans at a time (fits in a core's L2 cache).
pub(crate) const BLOCK: usize = 64 * 1024;

/// How many characters start within `text[range]`, whose ends need not be char boundaries.
fn char_starts(text: &str, range: Range<usize>) -> usize {
    // The bytes before the first boundary continue a character that started earlier.
    let mut start = range.start;
    while start < range.end && !text.is_char_boundary(start) {
        start += 1;
    }
    if start >= range.end {
        return 0;
    }
    // `start` is a boundary; so is `end`, and a character starting there but ending past the
    // range counts too.
    let mut end = range.end;
    while end > start && !text.is_char_boundary(end) {
        end -= 1;
    }
    // `str`'s count is the vectorised one.
    text[start..end].chars().count() + usize::from(end < range.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_from_line_and_column() {
        let text = "{\n  \"a\": x\n}";
        assert_eq!(offset_of(text, 2, 8), 9);
        assert_eq!(&text[9..10], "x");
    }

    #[test]
    fn the_index_and_the_scan_agree() {
        let text = "\u{FEFF}a\nbé c\r\n\nxyz é";
        let index = LineIndex::new(text);
        for (offset, _) in text.char_indices() {
            let p = Position::of(text, offset);
            assert_eq!(index.line_column(text, offset), (p.line, p.chars + 1));
            assert_eq!(index.line_of(offset), line_of(text, offset));
        }
    }
}
