//! The `hisaab` command.
fn main() {}
