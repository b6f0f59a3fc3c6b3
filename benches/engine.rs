//! `cargo bench`: runs `kafkasim bench` on benches/large.yaml (60 million records) and prints
//! events/s, simulated records/s and peak memory.

fn main() {
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/large.yaml");
    if let Err(f) = kafkasim::bench::run(&scenario) {
        eprintln!("error: {}", f.message);
        std::process::exit(i32::from(f.status));
    }
}
