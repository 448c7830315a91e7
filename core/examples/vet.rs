//! Vet a manifest with the native core (reference implementation, for tests and debugging):
//! `cargo run -p microvet-core --example vet -- FILE`
#![allow(clippy::unwrap_used, clippy::expect_used)]
fn main() {
    let path = std::env::args().nth(1).expect("usage: vet FILE");
    let text = std::fs::read_to_string(&path).expect("read");
    match microvet_core::Policy::builtin().unwrap().vet(&text) {
        Ok(v) => println!("{}", v.to_json_pretty()),
        Err(e) => eprintln!("{}", e.render(Some(&path))),
    }
}
