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
    let mut scan = Scan::default();
    let mut flow = 0usize;
    // Indentation of the open block levels; a block scalar (`|`, `>`) hides lines indented deeper
    // than the line that opened it.
    let mut indents: Vec<usize> = Vec::new();
    let mut block_scalar: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut seen_content = false;
    for (li, line) in text.split('\n').enumerate() {
        let lno = li + 1;
        let indent = line.len() - line.trim_start_matches(' ').len();
        let trimmed = line.trim();
        if let Some(parent) = block_scalar {
            if trimmed.is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        if quote.is_none() && flow == 0 {
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if line.starts_with("---") || line.starts_with("...") {
                let rest = &line[3..];
                if rest.is_empty() || rest.starts_with([' ', '\t', '\r']) {
                    if seen_content && scan.second_document.is_none() {
                        scan.second_document = Some((lno, 1));
                    }
                    continue;
                }
            }
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
        }
        seen_content = true;
        let bytes = line.as_bytes();
        // Compact nested sequences (`- - - x`) open a level each without a new line.
        let mut inline_levels = 0usize;
        // A node starts at the beginning of a line or after `key:`, `-`, `[`, `{`, `,` or `?`
        // (and a space); inside a plain scalar (`description: wow !great`) nothing is an indicator.
        let mut token_start = true;
        let mut prev_sig = 0u8;
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            // Counted only when reported: counting on every byte would make long lines quadratic.
            let col = || line[..i].chars().count() + 1;
            if let Some(q) = quote {
                if q == '"' && c == b'\\' {
                    i += 2;
                    continue;
                }
                if c == q as u8 {
                    if q == '\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    quote = None;
                }
                i += 1;
                token_start = false;
                continue;
            }
            match c {
                b'#' if i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t' => break,
                b'"' | b'\'' if token_start => quote = Some(c as char),
                b'[' | b'{' if token_start || flow > 0 => {
                    flow += 1;
                }
                b']' | b'}' if flow > 0 => flow -= 1,
                b'-' if token_start && flow == 0 && matches!(bytes.get(i + 1), None | Some(b' ')) => {
                    inline_levels += 1;
                }
                b'!' if token_start => {
                    let tag: String = line[i..].chars().take_while(|c| !c.is_whitespace()).collect();
                    return Err(at(
                        file,
                        lno,
                        col(),
                        format!("YAML tags such as `{tag}` are not supported in scenario files; write the plain value"),
                    ));
                }
                b'*' if token_start && scan.first_alias.is_none() => scan.first_alias = Some((lno, col())),
                b'|' | b'>' if token_start && flow == 0 => {
                    block_scalar = Some(indent);
                    break;
                }
                _ => {}
            }
            let depth = flow + indents.len() + inline_levels;
            if depth > MAX_DEPTH {
                return Err(at(
                    file,
                    lno,
                    col(),
                    format!(
                        "nesting is deeper than {MAX_DEPTH} levels (lists and maps inside each other); a scenario needs about 6"
                    ),
                ));
            }
            if c != b' ' && c != b'\t' {
                prev_sig = c;
            }
            let after_indicator = matches!(prev_sig, 0 | b'[' | b'{' | b',' | b'-' | b'?' | b':');
            token_start = after_indicator && matches!(c, b' ' | b'\t' | b'[' | b'{' | b',');
            i += 1;
        }
    }
    Ok(scan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_and_big_inputs_are_refused_quickly() {
        let t = std::time::Instant::now();
        let e = check("f", &format!("name: {}", "[".repeat(200_000))).unwrap_err();
        assert!(e.message.contains("deeper than 64"), "{e}");
        assert_eq!(e.location, Location::LineColumn { line: 1, column: 7 + 63 });
        assert!(check("f", &format!("name: {}", "{a: ".repeat(100_000))).is_err());
        assert!(check("f", &"- ".repeat(100_000)).is_err());
        assert!(check("f", &"x".repeat(MAX_BYTES + 1)).unwrap_err().message.contains("at most 1048576 bytes"));
        // A long but shallow line is scanned in linear time.
        assert!(check("f", &format!("x: [{}1]", "1, ".repeat(300_000))).is_ok());
        assert!(t.elapsed().as_secs() < 2);
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
