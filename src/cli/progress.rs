//! A progress bar on stderr while runs and compares simulate, for people at a terminal: it
//! appears only when stderr is a terminal and the work has taken about a second, and it is gone
//! when the work ends. It reads the virtual clocks the kernels publish (`Kernel::watch`) and
//! never touches the simulation, so outputs are the same with or without it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long work runs before a bar is worth showing.
const SHOW_AFTER: Duration = Duration::from_millis(1000);

/// Runs `work` on a scoped thread while this thread draws the progress of `clocks` (virtual
/// ns, each out of `total_ns`). Without a terminal on stderr, just runs `work`.
pub fn with_progress<T: Send>(
    label: &str,
    clocks: &[Arc<AtomicU64>],
    total_ns: u64,
    work: impl FnOnce() -> T + Send,
) -> T {
    if !std::io::stderr().is_terminal() || clocks.is_empty() {
        return work();
    }
    std::thread::scope(|s| {
        let handle = s.spawn(work);
        let started = Instant::now();
        let mut bar: Option<ProgressBar> = None;
        let total_ms = (total_ns / 1_000_000).max(1);
        while !handle.is_finished() {
            std::thread::sleep(Duration::from_millis(50));
            if bar.is_none() && started.elapsed() >= SHOW_AFTER {
                let b = ProgressBar::with_draw_target(Some(total_ms), ProgressDrawTarget::stderr());
                let style = ProgressStyle::with_template("{msg} [{wide_bar}] {percent:>3}% {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                b.set_style(style);
                bar = Some(b);
            }
            if let Some(b) = &bar {
                // The slowest of the runs tells how far the work is.
                let slowest = clocks.iter().map(|c| c.load(Ordering::Relaxed)).min().unwrap_or(0);
                let done = (slowest / 1_000_000).min(total_ms);
                b.set_message(format!("{label}: {:.1}/{:.1} s virtual", done as f64 / 1e3, total_ms as f64 / 1e3));
                b.set_position(done);
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// A progress bar on stderr for people at a terminal: runs done, total, time left.
pub fn runs_bar(total: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("sweep {bar:30} {pos}/{len} runs, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}
