//! `compare` says what happened to the consumers: a consumer that died (out of memory, for an
//! unbounded push buffer) or was fenced is named in its group's row and in the per-side list, so
//! a row never reads as a healthy consumer's.

use crate::util::*;
use kafkasim::cli::compare::{Axis, run_axis, write};

fn compare_md(scenario: &str, axis: Axis, name: &str) -> (String, String) {
    let plan = kafkasim::scenario::load(&repo(scenario)).unwrap();
    let cmp = run_axis(&plan, axis).unwrap();
    let dir = temp_dir(name);
    let table = write(&cmp, &dir).unwrap();
    let md = std::fs::read_to_string(dir.join("compare.md")).unwrap();
    assert_eq!(table, md, "the command prints compare.md");
    (md, std::fs::read_to_string(dir.join("index.html")).unwrap())
}

/// push-vs-pull-slow-consumer: the unbounded push consumer dies of out of memory at 39.9 s.
#[test]
fn a_consumer_that_died_of_out_of_memory_says_so_in_its_row_and_list() {
    let (md, page) = compare_md("scenarios/push-vs-pull-slow-consumer.yaml", Axis::Delivery, "compare-oom");
    assert!(md.contains("| unbounded | push | unbounded-1 died: out of memory at 39.9 s | 19,944 |"), "{md}");
    assert!(md.contains("| unbounded | pull | ran to the end | 29,996 |"), "{md}");
    assert!(md.contains("| drop | push | ran to the end |"), "drops are not deaths: {md}");
    let list = md.split("## What happened to the consumers").nth(1).expect("the per-side list");
    assert!(list.contains("| pull | every consumer | no crash, out of memory, hang, fence or stop | - |"), "{list}");
    assert!(
        list.contains(
            "| push | unbounded-1 (unbounded) | died: out of memory at 39.9 s: its unbounded push buffer held 4,000,200 bytes, more than its consumer_memory of 4,000,000 | crashed; processed 19,944; no consumer of unbounded was running at the end (lag 40,519) |"
        ),
        "{list}"
    );
    assert!(page.contains("unbounded-1 died: out of memory at 39.9 s"), "the page shows it too");
}

/// share-hung-consumer as consumer groups and as share groups: the hung member is fenced by the
/// session timeout; the killed one crashes, is fenced and is started again.
#[test]
fn a_fenced_consumer_says_so_in_its_row_and_list() {
    let (md, page) = compare_md("scenarios/share-hung-consumer.yaml", Axis::GroupType, "compare-fenced");
    assert!(
        md.contains(
            "| hung | share | h-1 hung at 10.2 s for 60 s, fenced at 55.0 s (session timeout), resumed at 70.2 s |"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "| killed | consumer | k-1 crashed at 10.2 s, fenced at 54.0 s (session timeout), restarted at 70.2 s |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| consumer | h-1 (hung) | hung at 10.2 s for 60 s; fenced at 54.0 s (session timeout: no heartbeat within session_timeout_ms); resumed at 70.2 s; learned at 70.2 s it had been fenced | active;"),
        "{md}"
    );
    assert!(page.contains("fenced at 55.0 s (session timeout)"), "the page shows it too");
    // The share side's session is the share group's own setting.
    assert!(
        md.contains("| share | h-1 (hung) | hung at 10.2 s for 60 s; fenced at 55.0 s (session timeout: no heartbeat within share_session_timeout_ms);"),
        "{md}"
    );
}
