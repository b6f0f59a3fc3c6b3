//! `cargo bench`: runs `kafkasim bench` on its built-in scenarios (benches/per-record.yaml, 6
//! million records in batches of one, and benches/large.yaml, 60 million records) and prints wall
//! time, events, simulated records/s and peak memory.

fn main() {
    if let Err(f) = kafkasim::cli::bench::run(None) {
        eprintln!("error: {}", f.message);
        std::process::exit(i32::from(f.status));
    }
}
