//! The source map: every text the compiler evaluated (scripts, stdlib modules, YAML inputs), so that a
//! diagnostic can point at `file:line:column` and show the line, long after evaluation finished.
//!
//! Positions are byte offsets into the recorded text. Rhai reports 1-based (line, character column)
//! positions; [`SourceMap::offset`] converts them against the exact text that was evaluated.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// The largest input tekscript reads: a script or module, a YAML file for `check`/`import`, a
/// `--values` file, standard input.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// Why [`read_text_file`] or [`read_text`] gave no text.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// The path is a directory.
    Directory,
    /// More than the limit (in bytes).
    TooLarge(u64),
    /// Not valid UTF-8.
    NotUtf8,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::Directory => write!(f, "it is a directory"),
            ReadError::TooLarge(limit) => write!(f, "it is larger than {}", human_bytes(*limit)),
            ReadError::NotUtf8 => write!(f, "it is not UTF-8 text"),
        }
    }
}

/// `1048576` → `1 MiB`.
pub fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// Reads a UTF-8 text file of at most `limit` bytes. A directory is refused; a regular file that
/// is larger is refused before anything is read; anything else (a pipe, `/dev/stdin`, a device)
/// is read up to the limit, so an endless input such as `/dev/zero` stops there instead of filling
/// memory.
pub fn read_text_file(path: &Path, limit: u64) -> Result<String, ReadError> {
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if meta.is_dir() {
        return Err(ReadError::Directory);
    }
    if meta.is_file() && meta.len() > limit {
        return Err(ReadError::TooLarge(limit));
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    read_text(file, limit)
}

/// Reads UTF-8 text from `reader`, at most `limit` bytes (one more is an error).
pub fn read_text(reader: impl Read, limit: u64) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one file of the source map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start,
            end: end.max(start),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown to users: a path relative to the working directory, or `<stdlib>/git.rhai`.
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    fn new(name: String, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name,
            text,
            line_starts,
        }
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self.text[start..floor_char_boundary(&self.text, offset)]
            .chars()
            .count();
        (line + 1, col + 1)
    }

    /// Byte offset of a 1-based line and 1-based character column. Out-of-range positions are clamped
    /// to the end of the line / file, never panic.
    pub fn offset(&self, line: usize, col: usize) -> usize {
        if line == 0 || line > self.line_starts.len() {
            return self.text.len();
        }
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        let line_text = &self.text[start..end];
        let byte = line_text
            .char_indices()
            .nth(col.saturating_sub(1))
            .map(|(i, _)| i)
            .unwrap_or(line_text.len());
        start + byte
    }

    /// The end of the token that starts at `offset`: an identifier, a string literal or one character.
    pub fn token_end(&self, offset: usize) -> usize {
        let rest = &self.text[offset.min(self.text.len())..];
        let mut chars = rest.char_indices();
        match chars.next() {
            None => offset,
            Some((_, q @ ('"' | '`' | '\''))) => {
                let mut escaped = false;
                for (i, c) in chars {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' && q != '`' {
                        escaped = true;
                    } else if c == q {
                        return offset + i + c.len_utf8();
                    } else if c == '\n' && q != '`' {
                        return offset + i;
                    }
                }
                offset + rest.len()
            }
            Some((_, c)) if is_ident(c) => {
                let len = rest
                    .char_indices()
                    .find(|(_, c)| !is_ident(*c))
                    .map(|(i, _)| i)
                    .unwrap_or(rest.len());
                offset + len
            }
            Some((_, c)) => offset + c.len_utf8(),
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Every text evaluated during one compilation.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Records a text; adding the same name and text twice returns the first id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let name = name.into();
        let text = text.into();
        if let Some(i) = self
            .files
            .iter()
            .position(|f| f.name == name && f.text == text)
        {
            return FileId(i as u32);
        }
        self.files.push(SourceFile::new(name, text));
        FileId(self.files.len() as u32 - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.name == name)
            .map(|i| FileId(i as u32))
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// Span of the token at a 1-based (line, column) position.
    pub fn span_at(&self, file: FileId, line: usize, col: usize) -> Span {
        let f = self.get(file);
        let start = f.offset(line, col);
        Span::new(file, start, f.token_end(start))
    }

    /// `file:line:col` of a span's start.
    pub fn location(&self, span: Span) -> Location<'_> {
        let f = self.get(span.file);
        let (line, col) = f.line_col(span.start);
        Location {
            file: &f.name,
            line,
            col,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location<'a> {
    pub file: &'a str,
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_characters_not_bytes() {
        let mut map = SourceMap::new();
        let id = map.add("a.rhai", "let ä = 1;\nlet ünï = \"x\";\n");
        let f = map.get(id);
        // column 9 on line 2 is the opening quote, after two multi-byte characters
        let off = f.offset(2, 11);
        assert_eq!(&f.text[off..off + 3], "\"x\"");
        assert_eq!(f.line_col(off), (2, 11));
        assert_eq!(f.token_end(off), off + 3);
        let span = map.span_at(id, 2, 5);
        assert_eq!(&map.get(id).text[span.start..span.end], "ünï");
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let mut map = SourceMap::new();
        let id = map.add("a.rhai", "x\n");
        let f = map.get(id);
        assert_eq!(f.offset(9, 9), 2);
        assert_eq!(f.offset(1, 99), 1);
        assert_eq!(f.line_col(100), (2, 1));
    }

    #[test]
    fn reads_are_bounded() {
        assert_eq!(read_text(&b"abc"[..], 3).unwrap(), "abc");
        assert!(matches!(
            read_text(&b"abcd"[..], 3),
            Err(ReadError::TooLarge(3))
        ));
        assert!(matches!(
            read_text(&[0xff, 0xfe][..], 3),
            Err(ReadError::NotUtf8)
        ));
        // an endless reader stops at the limit
        let zero = std::io::repeat(0);
        assert!(matches!(
            read_text(zero, 1 << 20),
            Err(ReadError::TooLarge(_))
        ));
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_text_file(dir.path(), 10),
            Err(ReadError::Directory)
        ));
        let f = dir.path().join("big");
        std::fs::write(&f, "0123456789x").unwrap();
        assert_eq!(
            read_text_file(&f, 10).unwrap_err().to_string(),
            "it is larger than 10 bytes"
        );
        assert_eq!(read_text_file(&f, 11).unwrap(), "0123456789x");
        assert_eq!(human_bytes(64 << 20), "64 MiB");
    }

    #[test]
    fn backtick_strings_span_lines() {
        let mut map = SourceMap::new();
        let id = map.add("a.rhai", "f(`a\nb`, 1)");
        assert_eq!(map.get(id).token_end(2), 7);
    }
}
