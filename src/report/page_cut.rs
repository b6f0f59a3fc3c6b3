//! What the page shows of a huge world's long texts: a story line or a table cell that lists
//! every partition of a group, and an event that names every partition it assigns. At 300
//! groups x 10,000 partitions they made a 225 MB page that a browser takes minutes to open; the
//! page shows the start of each, says how much is left out and where it is whole. No shipped
//! scenario comes near these limits (their pages are unchanged, the golden manifests say so).

use serde_json::Value;

/// The longest story line or table cell the page shows whole, in characters (a line naming
/// 10,000 partitions has 170,000).
pub const MAX_TEXT: usize = 2_000;

/// The longest list of an event the page shows whole (events.jsonl has every entry).
pub const MAX_LIST: usize = 100;

/// `text`, or its first [`MAX_TEXT`] characters and how many more `whole_in` has.
pub fn cut_text(text: String, whole_in: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let Some((end, _)) = text.char_indices().nth(MAX_TEXT) else { return text };
    let more = text[end..].chars().count();
    format!("{}… ({more} more characters in {whole_in})", &text[..end])
}

/// Every list in `v` (at any depth) cut to its first [`MAX_LIST`] entries and a last one that
/// says how many more events.jsonl has.
pub fn cut_lists(v: &mut Value) {
    match v {
        Value::Array(a) => {
            if a.len() > MAX_LIST {
                let more = a.len() - MAX_LIST;
                a.truncate(MAX_LIST);
                a.push(Value::String(format!("… {more} more in events.jsonl")));
                // The page holds up to 20,000 events: a cut list must not keep its old room.
                a.shrink_to_fit();
            }
            a.iter_mut().for_each(cut_lists);
        }
        Value::Object(o) => o.values_mut().for_each(cut_lists),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_texts_and_lists_are_whole() {
        let line = "é".repeat(MAX_TEXT);
        assert_eq!(cut_text(line.clone(), "x"), line, "2,000 two-byte characters are not cut");
        let mut v = json!({"partitions": (0..MAX_LIST).collect::<Vec<_>>()});
        let before = v.clone();
        cut_lists(&mut v);
        assert_eq!(v, before);
    }

    #[test]
    fn long_texts_and_lists_say_what_is_left_out() {
        let line = format!("{}ab", "é".repeat(MAX_TEXT));
        assert_eq!(cut_text(line, "the story"), format!("{}… (2 more characters in the story)", "é".repeat(MAX_TEXT)));
        let mut v = json!({"moves": [{"partitions": (0..250).collect::<Vec<_>>()}]});
        cut_lists(&mut v);
        let list = v["moves"][0]["partitions"].as_array().unwrap();
        assert_eq!(list.len(), MAX_LIST + 1);
        assert_eq!(list[MAX_LIST - 1], json!(MAX_LIST - 1));
        assert_eq!(list[MAX_LIST], json!("… 150 more in events.jsonl"));
    }
}
