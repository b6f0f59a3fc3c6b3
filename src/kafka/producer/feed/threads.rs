//! The generator on a thread of its own: chunks handed over a channel, a few ahead of the world.

use super::{CHUNK_INLINE, CHUNK_THREAD, Chunk, Generator};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Chunks the generator may run ahead of the world.
const CHUNKS_AHEAD: usize = 4;

/// Whether each of `runs` worlds running at once can give its producers a core of their own.
pub fn thread_per_run(runs: usize) -> bool {
    std::thread::available_parallelism().is_ok_and(|cores| cores.get() >= 2 * runs.max(1))
}

/// Where the world gets its chunks: a generator on another thread, or one it runs itself.
pub enum Source {
    Inline(Box<Generator>),
    Thread(ThreadEnd),
    Exhausted,
}

/// The world's end of the producers' thread: chunks come in on `chunks`; spent ones go back on
/// `spent` for their buffers.
pub struct ThreadEnd {
    chunks: Option<Receiver<Chunk>>,
    spent: Option<SyncSender<Chunk>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for ThreadEnd {
    /// The producers' thread ends when its channel closes (at once if it waits to hand over a
    /// chunk, else after the chunk it is making); it is waited for, so nothing it holds outlives
    /// the world.
    fn drop(&mut self) {
        drop((self.chunks.take(), self.spent.take()));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Source {
    /// Runs `generator` on a thread of its own, a few chunks ahead (in the world's thread if no
    /// thread can be started).
    pub fn spawn(mut generator: Box<Generator>) -> Self {
        generator.chunk_size = CHUNK_THREAD;
        let (tx, chunks): (SyncSender<Chunk>, Receiver<Chunk>) = sync_channel(CHUNKS_AHEAD);
        let (spent, back_rx) = sync_channel::<Chunk>(CHUNKS_AHEAD + 2);
        // The generator goes over through a slot, so a thread that cannot start gives it back.
        let slot = Arc::new(Mutex::new(Some(generator)));
        let theirs = Arc::clone(&slot);
        let started = std::thread::Builder::new().name("kafkasim-producers".into()).spawn(move || {
            let Some(mut generator) = theirs.lock().ok().and_then(|mut g| g.take()) else { return };
            loop {
                let chunk = generator.fill_chunk(back_rx.try_recv().unwrap_or_default());
                let last = chunk.last;
                // The world dropped its end: the run is over (or never started).
                if tx.send(chunk).is_err() || last {
                    break;
                }
            }
        });
        match started {
            Ok(thread) => Source::Thread(ThreadEnd { chunks: Some(chunks), spent: Some(spent), thread: Some(thread) }),
            Err(_) => {
                let mut g = slot.lock().ok().and_then(|mut g| g.take()).expect("the generator is still here");
                g.chunk_size = CHUNK_INLINE;
                Source::Inline(g)
            }
        }
    }

    pub(super) fn next(&mut self, spent: Option<Chunk>) -> Option<Chunk> {
        let chunk = match self {
            Source::Inline(g) => g.fill_chunk(spent.unwrap_or_default()),
            Source::Thread(end) => {
                if let (Some(c), Some(back)) = (spent, &end.spent) {
                    let _ = back.try_send(c); // (a full return channel: the buffers are dropped)
                }
                let chunks = end.chunks.as_ref().expect("open until dropped");
                chunks.recv().expect("the producers' thread hands over its last chunk")
            }
            Source::Exhausted => return None,
        };
        if chunk.last {
            *self = Source::Exhausted;
        }
        Some(chunk)
    }
}
