//! kafkasim: a deterministic discrete-event simulator of Apache Kafka's messaging workflow.
//!
//! - [`sim`]: the kernel (integer virtual time, the (time, seq) event queue, seeded RNG streams).
//! - [`kafka`]: the model (partition logs, producers, consumers, groups, assignors) on the kernel.
//! - [`scenario`]: YAML scenario files parsed and checked into a typed plan.
//! - [`record`]: what a run observes, in order. [`report`]: files written from it.
//! - [`cli`]: the commands (run, check, validate, compare, sweep, bench, partition, assign), output
//!   folders and progress bars, on top of everything else.

pub mod cli;
pub mod kafka;
pub mod prefetch;
pub mod record;
pub mod report;
pub mod scenario;
pub mod sim;

/// Parses nothing, writes nothing: runs a checked plan to the end and returns the finished world.
pub fn simulate(plan: scenario::Plan) -> kafka::world::World {
    let mut world = kafka::world::World::new(plan);
    world.run();
    world
}
