//! `cargo bench -p p4tc-bench --bench compare`: every case against its hand-written twin
//! (being built; see docs/benchmarks.md).
#![allow(clippy::print_stdout)]

fn main() {
    for case in p4tc_bench::cases::all() {
        println!("{}: {} scales", case.example(), case.scales().len());
    }
}
