//! Byte offsets ↔ LSP positions (line, UTF-16 column), and file URIs.

use lsp_types::{Position, Range, Url};
use std::path::{Path, PathBuf};

/// Line starts of a text, for position conversions.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= offset) - 1;
        let start = self.starts[line];
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col: usize = self.text[start..end].chars().map(char::len_utf16).sum();
        Position::new(line as u32, col as u32)
    }

    pub fn offset(&self, pos: Position) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(pos.line as usize + 1)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        let mut units = 0u32;
        for (i, c) in self.text[start..end].char_indices() {
            if units >= pos.character {
                return start + i;
            }
            units += c.len_utf16() as u32;
        }
        end
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end))
    }
}

pub fn path_of(uri: &Url) -> Option<PathBuf> {
    if uri.scheme() == "file" {
        uri.to_file_path().ok()
    } else {
        None
    }
}

pub fn uri_of(path: &Path) -> Option<Url> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    Url::from_file_path(abs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns() {
        let text = "a\n€x😀y\n";
        let ix = LineIndex::new(text);
        let y = text.find('y').unwrap();
        assert_eq!(ix.position(y), Position::new(1, 4));
        assert_eq!(ix.offset(Position::new(1, 4)), y);
        assert_eq!(ix.offset(Position::new(9, 0)), text.len());
        assert_eq!(ix.offset(Position::new(0, 99)), 1);
    }
}
