//! `cargo bench`: runs `kafkasim bench` on benches/per-record.yaml (6 million records in batches of
//! one) and benches/large.yaml (60 million records) and prints wall time, events, simulated
//! records/s and peak memory.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches");
    let scenarios = [dir.join("per-record.yaml"), dir.join("large.yaml")];
    if let Err(f) = kafkasim::bench::run_all(&scenarios) {
        eprintln!("error: {}", f.message);
        std::process::exit(i32::from(f.status));
    }
}
