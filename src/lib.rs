//! kafkasim: a deterministic discrete-event simulator of Apache Kafka's messaging workflow.
//!
//! - [`sim`]: the kernel (integer virtual time, the (time, seq) event queue, seeded RNG streams).
//! - [`kafka`]: the model (partition logs, producers, consumers, groups, assignors) on the kernel.
//! - [`scenario`]: YAML scenario files parsed and checked into a typed plan.
//! - [`record`]: what a run observes, in order. [`report`]: files written from it.
//! - [`cli`]: the command line.

pub mod bench;
pub mod check;
pub mod cli;
pub mod compare;
pub mod kafka;
pub mod outdir;
pub mod prefetch;
pub mod progress;
pub mod record;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod sweep;

/// Parses nothing, writes nothing: runs a checked plan to the end and returns the finished world.
pub fn simulate(plan: scenario::Plan) -> kafka::world::World {
    let mut world = kafka::world::World::new(plan);
    world.run();
    world
}
