//! Front-end throughput on a large generated program, in bytes of source per second.
//!
//! Method: one program of about 4 MiB is generated in memory (headers, a parser with a state
//! per header, controls with actions, tables and expression-heavy apply blocks; no macros), so
//! file I/O is excluded. Measured: lexing alone; preprocess + lex + parse into the syntax tree
//! (the goal is 50 MB/s or more); and that plus name resolution, type checking and lowering
//! into the IR. Criterion reports MiB/s.
//! Run: `cargo bench -p p4tc-front --bench frontend`.

#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mimalloc::MiMalloc;

// The `p4tc` binary runs on mimalloc; measure the front-end as it runs there.
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;
use p4tc_front::{parse_source, PreprocessOptions};
use p4tc_ir::FileId;

/// A realistic mix of P4 constructs, repeated with fresh names until the text is `target` bytes.
pub fn generated_program(target: usize) -> String {
    let mut out = String::from("#include <core.p4>\n");
    let mut i = 0;
    while out.len() < target {
        out.push_str(&format!(
            r#"
header h{i}_t {{
    bit<48> dst;
    bit<48> src;
    bit<16> kind;
    @name("ttl") bit<8> ttl;
    bit<32> addr;
}}

struct meta{i}_t {{
    bit<32> next_hop;
    bool seen;
}}

parser P{i}(packet_in pkt, out h{i}_t h, inout meta{i}_t m) {{
    state start {{
        pkt.extract(h);
        transition select(h.kind, h.ttl) {{
            (16w0x0800, 8w0 &&& 8w0xf0): accept;
            (16w0x86dd, _): reject;
            default: accept;
        }}
    }}
}}

control C{i}(inout h{i}_t h, inout meta{i}_t m) {{
    action set_nh(bit<32> nh, bit<48> mac) {{
        m.next_hop = nh;
        h.dst = mac;
        h.ttl = h.ttl - 1;
    }}
    action drop() {{
        m.seen = false;
    }}
    table routes {{
        key = {{
            h.addr: lpm;
            h.kind: exact @name("type");
        }}
        actions = {{ set_nh; drop; NoAction; }}
        default_action = drop();
        size = 1024;
        const entries = {{
            (32w0x0a000000 &&& 32w0xff000000, 16w0x0800): set_nh(1, 48w0x000102030405);
        }}
    }}
    apply {{
        if (h.ttl == 0 || !m.seen) {{
            drop();
            return;
        }}
        bit<32> hash = (h.addr ^ (h.addr >> 16)) * 32w2654435761 + (bit<32>) h.kind;
        switch (routes.apply().action_run) {{
            set_nh: {{ m.seen = true; }}
            default: {{ h.src = h.dst[47:0]; }}
        }}
        m.next_hop = hash[31:16] ++ (h.kind |+| 16w1);
    }}
}}
"#
        ));
        i += 1;
    }
    out
}

/// The benchmark group: lex alone, parse, and parse plus check.
fn frontend(c: &mut Criterion) {
    let text = generated_program(4 << 20);
    let mut group = c.benchmark_group("frontend");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function("lex", |b| {
        b.iter(|| {
            let mut diagnostics = Vec::new();
            let tokens = p4tc_front::lexer::lex(FileId(0), &text, &mut diagnostics);
            assert!(diagnostics.is_empty());
            tokens.len()
        })
    });
    group.bench_function("preprocess+lex+parse", |b| {
        b.iter(|| {
            let parsed = parse_source("big.p4", &text, &PreprocessOptions::default());
            assert!(!parsed.has_errors(), "{}", parsed.render_diagnostics());
            parsed.program.declarations.len()
        })
    });
    group.bench_function("preprocess+lex+parse+check", |b| {
        b.iter(|| {
            let mut parsed = parse_source("big.p4", &text, &PreprocessOptions::default());
            let module = p4tc_front::check(&mut parsed);
            assert!(module.is_some(), "{}", parsed.render_diagnostics());
            module.map(|m| m.tables.len())
        })
    });
    group.finish();
}

criterion_group!(benches, frontend);
criterion_main!(benches);
