//! Debug: prints the C of one example.
#![allow(clippy::print_stdout, missing_docs)]
fn main() {
    let path = std::env::args().nth(1).expect("path");
    let mut parsed =
        p4tc_front::parse_file(std::path::Path::new(&path), &Default::default()).unwrap();
    let m = p4tc_front::check(&mut parsed).expect("checks");
    for (h, b) in m.block_types.iter() {
        println!(
            "// block {:?} {} stmts={} states={}",
            h,
            b.name,
            b.body.block.stmts.len(),
            b.states.len()
        );
    }
    println!("// pipeline {:?}", m.pipeline);
    let hook = if std::env::args().nth(2).as_deref() == Some("xdp") {
        p4tc_ebpf::Hook::Xdp
    } else {
        p4tc_ebpf::Hook::Tc
    };
    match p4tc_ebpf::generate(&m, "prog", hook) {
        Ok(g) => println!("{}", g.c),
        Err(e) => println!("error: {e}"),
    }
}
