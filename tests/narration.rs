//! The story says what happened: a rejected commit is told with what became of its partitions
//! (kept by the consumer, or read again by their next owner), once per run of rejections, and a
//! rewind with whether the group read the records again. Written after the run, from the record.

/// The story of a shipped scenario, from the run the docs tests share.
fn story(name: &str) -> Vec<String> {
    serde_json::from_value(crate::docs::scenario(name)["story"].clone()).unwrap()
}

fn assert_line(story: &[String], line: &str) {
    assert!(story.iter().any(|l| l == line), "no line\n{line}\nin:\n{}", story.join("\n"));
}

/// Every line of a rejected commit, with the claim it must not make.
fn rejected(story: &[String]) -> Vec<&String> {
    let lines: Vec<&String> =
        story.iter().filter(|l| l.contains("[commit] consumer") && l.contains("is rejected")).collect();
    for l in &lines {
        assert!(!l.contains("will be read again"), "a rejected commit told as a promise: {l}");
    }
    lines
}

/// Cooperative: members keep the partitions that do not move, so a commit rejected while the
/// rebalance runs is covered by the next one. The group ends with no duplicates, and the story
/// says so, once per rebalance rather than once per rejected commit.
#[test]
fn a_kept_partition_is_covered_by_the_next_commit() {
    let g = &crate::docs::scenario("rolling-restart")["summary"]["groups"]["cooperative"];
    assert_eq!((g["duplicates"].as_u64(), g["commits_rejected"].as_u64()), (Some(0), Some(600)));
    let story = story("rolling-restart");
    assert_line(
        &story,
        "00:27.090  [commit] consumer k3's commit of orders-2, orders-3 is rejected (rebalance in progress), and so are \
         its next 99 commits, until 00:30.049; it keeps orders-2, orders-3; its next commit covers them, so nothing is \
         read again",
    );
    // A partition the consumer gives up is committed by its onPartitionsRevoked.
    assert_line(
        &story,
        "01:06.147  [commit] consumer k2's commit of orders-2, orders-3, orders-5 is rejected (rebalance in progress); it \
         keeps orders-2, orders-3; its next commit covers them, so nothing is read again; it gives up orders-5 at \
         01:06.169 and commits its position as it does (onPartitionsRevoked): nothing is read again",
    );
    let lines = rejected(&story);
    assert_eq!(lines.len(), 10, "600 rejections told in 10 lines:\n{lines:#?}");
    assert!(lines.iter().all(|l| l.contains("nothing is read again")), "{lines:#?}");
    assert_line(
        &story,
        "01:20.000  [process] cooperative processed 240306 records (0 duplicates); median time from publish to processed \
         27.165 ms",
    );
}

/// Eager, fenced by max.poll.interval.ms: the coordinator gave the partitions to the other
/// member, which read them from the last accepted commit, so the batch is processed twice.
#[test]
fn a_partition_gone_to_another_member_is_read_again() {
    let story = story("poll-timeout");
    assert_line(
        &story,
        "00:53.940  [commit] consumer w1's commit of jobs-0, jobs-1 is rejected (not a member); w2 has owned jobs-0, \
         jobs-1 since 00:45.114, reading from the last accepted commit, so the records w1 processed past it are \
         processed twice",
    );
    assert_line(
        &story,
        "01:18.315  [commit] consumer w1's commit of jobs-0 is rejected (not a member); w2 has owned jobs-0 since \
         01:09.211, reading from the last accepted commit, so the records w1 processed past it are processed twice",
    );
    assert_eq!(rejected(&story).len(), 2);
    // How many, by cause, as summary.json's duplicates_by_cause counts them.
    assert_line(
        &story,
        "01:30.000  [process] workers processed 36966 records (1000 duplicates: poll_timeout 1000); median time from \
         publish to processed 421.79 ms",
    );
}

/// A reset back is told with whether the group read the records again by the end.
#[test]
fn a_rewind_says_whether_the_records_were_read_again() {
    let story = story("rewind-after-bug");
    let reset = story.iter().find(|l| l.contains("[replay] group billing's committed offsets are reset")).unwrap();
    assert!(
        reset.contains("orders-0 5760 -> 1872 (back 3888 records, all read again: billing's committed offset is at 11359 by the end)"),
        "{reset}"
    );
    assert!(!reset.contains("will be read again"), "{reset}");
    assert_line(
        &story,
        "01:00.000  [process] billing processed 64212 records (0 duplicates; 16154 replays); median time from publish to \
         processed 812.646 ms",
    );
}
