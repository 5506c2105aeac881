//! Prints the OpenAPI description (`cargo run -p hisaab-server --example openapi`).
#![allow(clippy::print_stdout)] // Printing is the point.

fn main() -> Result<(), serde_json::Error> {
    println!("{}", hisaab_server::openapi::to_json()?);
    Ok(())
}
