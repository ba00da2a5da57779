//! The `p4tc` command.
fn main() {}
