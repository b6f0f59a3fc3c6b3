//! Checks on the raw text before the YAML parser sees it. The parser's tokenizer slows down
//! quadratically with unclosed nesting (100,000 `[` took 25 s), so size and nesting depth are
//! bounded here in one linear pass. The same pass notes where tags, aliases and extra documents
//! are, so the errors about them can point at a line and column.

use super::error::{Location, ScenarioError};

/// A scenario file is a few kilobytes; a megabyte holds a timeline of ~20,000 actions.
pub const MAX_BYTES: usize = 1 << 20;
/// Deepest nesting a scenario needs is about 6 (timeline -> add_group -> consumers -> entry ->
/// processing -> lognormal); 64 leaves room for any hand-written layout.
pub const MAX_DEPTH: usize = 64;

/// What the scan found that the parser's own errors do not locate.
#[derive(Debug, Default)]
pub struct Scan {
    /// The first `*alias`, to locate "repetition limit exceeded" and alias errors.
    pub first_alias: Option<(usize, usize)>,
    /// The first `---` or `...` after content: a second document.
    pub second_document: Option<(usize, usize)>,
}

/// Strips a UTF-8 byte-order mark, which editors on Windows write and YAML allows.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

fn at(file: &str, line: usize, column: usize, message: String) -> ScenarioError {
    ScenarioError { file: file.to_string(), location: Location::LineColumn { line, column }, message }
}

/// Checks size, nesting depth and tags in one pass over `text`.
pub fn check(file: &str, text: &str) -> Result<Scan, ScenarioError> {
    if text.len() > MAX_BYTES {
        return Err(ScenarioError {
            file: file.to_string(),
            location: Location::File,
            message: format!(
                "the file is {} bytes; a scenario file may be at most {MAX_BYTES} bytes (1 MiB)",
                text.len()
            ),
        });
    }
    let mut scanner = Scanner { file, ..Scanner::default() };
    for (li, line) in text.split('\n').enumerate() {
        scanner.line(li + 1, line)?;
    }
    Ok(scanner.scan)
}

/// The pass's state from line to line.
#[derive(Default)]
struct Scanner<'a> {
    file: &'a str,
    scan: Scan,
    /// Open `[` and `{`.
    flow: usize,
    /// Indentation of the open block levels; a block scalar (`|`, `>`) hides lines indented deeper
    /// than the line that opened it.
    indents: Vec<usize>,
    block_scalar: Option<usize>,
    quote: Option<char>,
    seen_content: bool,
}

/// Where the pass is in one line.
struct Cursor<'l> {
    line: &'l str,
    lno: usize,
    indent: usize,
    i: usize,
    /// Compact nested sequences (`- - - x`) open a level each without a new line.
    inline_levels: usize,
    /// A node starts at the beginning of a line or after `key:`, `-`, `[`, `{`, `,` or `?`
    /// (and a space); inside a plain scalar (`description: wow !great`) nothing is an indicator.
    token_start: bool,
    prev_sig: u8,
}

impl Cursor<'_> {
    /// The column of the current byte. Counted only when reported: counting on every byte would
    /// make long lines quadratic.
    fn col(&self) -> usize {
        self.line[..self.i].chars().count() + 1
    }
}

impl Scanner<'_> {
    /// One line: skipped while a block scalar's text goes on, else its level noted and its
    /// bytes scanned.
    fn line(&mut self, lno: usize, line: &str) -> Result<(), ScenarioError> {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let trimmed = line.trim();
        if let Some(parent) = self.block_scalar {
            if trimmed.is_empty() || indent > parent {
                return Ok(());
            }
            self.block_scalar = None;
        }
        if self.quote.is_none() && self.flow == 0 && !self.block_level(lno, line, indent) {
            return Ok(());
        }
        self.seen_content = true;
        let mut cur = Cursor { line, lno, indent, i: 0, inline_levels: 0, token_start: true, prev_sig: 0 };
        self.bytes(&mut cur)
    }

    /// A line outside quotes and brackets: false for a blank line, a comment or a document
    /// marker (noting a second document), which hold no node; otherwise its indentation closes
    /// the levels at or deeper than it and opens its own.
    fn block_level(&mut self, lno: usize, line: &str, indent: usize) -> bool {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return false;
        }
        if line.starts_with("---") || line.starts_with("...") {
            let rest = &line[3..];
            if rest.is_empty() || rest.starts_with([' ', '\t', '\r']) {
                if self.seen_content && self.scan.second_document.is_none() {
                    self.scan.second_document = Some((lno, 1));
                }
                return false;
            }
        }
        while self.indents.last().is_some_and(|&i| i >= indent) {
            self.indents.pop();
        }
        self.indents.push(indent);
        true
    }

    /// The line's bytes, each inside a quote or a possible indicator, with the depth it reaches.
    fn bytes(&mut self, cur: &mut Cursor) -> Result<(), ScenarioError> {
        let bytes = cur.line.as_bytes();
        while cur.i < bytes.len() {
            let c = bytes[cur.i];
            if let Some(q) = self.quote {
                self.quoted(q, bytes, cur);
                continue;
            }
            if self.indicator(c, bytes, cur)? {
                break;
            }
            let depth = self.flow + self.indents.len() + cur.inline_levels;
            if depth > MAX_DEPTH {
                return Err(at(
                    self.file,
                    cur.lno,
                    cur.col(),
                    format!(
                        "nesting is deeper than {MAX_DEPTH} levels (lists and maps inside each other); a scenario needs about 6"
                    ),
                ));
            }
            if c != b' ' && c != b'\t' {
                cur.prev_sig = c;
            }
            let after_indicator = matches!(cur.prev_sig, 0 | b'[' | b'{' | b',' | b'-' | b'?' | b':');
            cur.token_start = after_indicator && matches!(c, b' ' | b'\t' | b'[' | b'{' | b',');
            cur.i += 1;
        }
        Ok(())
    }

    /// A byte inside quote `q`: an escape (`\"`) or a doubled single quote (`''`) is skipped
    /// whole; the closing quote ends the quote.
    fn quoted(&mut self, q: char, bytes: &[u8], cur: &mut Cursor) {
        let c = bytes[cur.i];
        if q == '"' && c == b'\\' {
            cur.i += 2;
            return;
        }
        if c == q as u8 {
            if q == '\'' && bytes.get(cur.i + 1) == Some(&b'\'') {
                cur.i += 2;
                return;
            }
            self.quote = None;
        }
        cur.i += 1;
        cur.token_start = false;
    }

    /// What byte `c` opens or closes: a quote, a bracket, a compact sequence level, a tag (an
    /// error), an alias, a block scalar. True when the rest of the line is a comment or a block
    /// scalar's text.
    fn indicator(&mut self, c: u8, bytes: &[u8], cur: &mut Cursor) -> Result<bool, ScenarioError> {
        let (i, token_start) = (cur.i, cur.token_start);
        match c {
            b'#' if i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t' => return Ok(true),
            b'"' | b'\'' if token_start => self.quote = Some(c as char),
            b'[' | b'{' if token_start || self.flow > 0 => {
                self.flow += 1;
            }
            b']' | b'}' if self.flow > 0 => self.flow -= 1,
            b'-' if token_start && self.flow == 0 && matches!(bytes.get(i + 1), None | Some(b' ')) => {
                cur.inline_levels += 1;
            }
            b'!' if token_start => {
                let tag: String = cur.line[i..].chars().take_while(|c| !c.is_whitespace()).collect();
                return Err(at(
                    self.file,
                    cur.lno,
                    cur.col(),
                    format!("YAML tags such as `{tag}` are not supported in scenario files; write the plain value"),
                ));
            }
            b'*' if token_start && self.scan.first_alias.is_none() => {
                self.scan.first_alias = Some((cur.lno, cur.col()))
            }
            b'|' | b'>' if token_start && self.flow == 0 => {
                self.block_scalar = Some(cur.indent);
                return Ok(true);
            }
            _ => {}
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_and_big_inputs_are_refused() {
        let e = check("f", &format!("name: {}", "[".repeat(200_000))).unwrap_err();
        assert!(e.message.contains("deeper than 64"), "{e}");
        assert_eq!(e.location, Location::LineColumn { line: 1, column: 7 + 63 });
        assert!(check("f", &format!("name: {}", "{a: ".repeat(100_000))).is_err());
        assert!(check("f", &"- ".repeat(100_000)).is_err());
        assert!(check("f", &"x".repeat(MAX_BYTES + 1)).unwrap_err().message.contains("at most 1048576 bytes"));
        // A long but shallow line is scanned in linear time.
        assert!(check("f", &format!("x: [{}1]", "1, ".repeat(300_000))).is_ok());
    }

    #[test]
    fn ordinary_text_passes() {
        let ok = "name: a-b # comment [[[[\ndescription: |\n  text with [ and ! and { \"\n  more\nseed: 1\nx: [1, [2, {a: 3}]]\ny: 'it''s [' \nz: \"q\\\" [\"\nw: hello!\nv: wow !great, see [docs *here and 'there\n";
        let scan = check("f", ok).unwrap();
        assert!(scan.first_alias.is_none() && scan.second_document.is_none());
    }

    #[test]
    fn tags_aliases_and_documents_are_located() {
        let e = check("f", "name: x\nseed: !!int 3\n").unwrap_err();
        assert_eq!(e.location, Location::LineColumn { line: 2, column: 7 });
        assert!(e.message.contains("`!!int`"));
        assert!(check("f", "a: [!custom 1]\n").is_err());
        let s = check("f", "---\na: &x 1\nb: *x\n---\nc: 2\n").unwrap();
        assert_eq!(s.first_alias, Some((3, 4)));
        assert_eq!(s.second_document, Some((4, 1)));
    }

    #[test]
    fn bom_is_stripped() {
        assert_eq!(strip_bom("\u{feff}name: x"), "name: x");
    }
}
