//! `cargo bench`: runs `kafkasim bench` on its built-in scenario (benches/large.yaml, 60 million
//! records) and prints events/s, simulated records/s and peak memory.

fn main() {
    if let Err(f) = kafkasim::bench::run(None) {
        eprintln!("error: {}", f.message);
        std::process::exit(i32::from(f.status));
    }
}
