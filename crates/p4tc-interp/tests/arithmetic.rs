//! Arithmetic through whole programs: for each width, a program reads `a`, `b` and a shift
//! amount from the packet, computes every operator into an output header, and the emitted
//! bits are compared with a BigInt reference.

mod common;

use std::sync::Arc;

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{One, Zero};
use p4tc_interp::Interpreter;
use proptest::prelude::*;

const WIDTHS: [u32; 10] = [1, 7, 8, 63, 64, 65, 127, 128, 129, 200];

/// Result fields in output order: (name, expression, width multiplier of W or fixed width).
fn results(signed: bool) -> Vec<(&'static str, &'static str, Width)> {
    let mut v = vec![
        ("add", "i.a + i.b", Width::W),
        ("sub", "i.a - i.b", Width::W),
        ("mul", "i.a * i.b", Width::W),
        ("sadd", "i.a |+| i.b", Width::W),
        ("ssub", "i.a |-| i.b", Width::W),
        ("band", "i.a & i.b", Width::W),
        ("bor", "i.a | i.b", Width::W),
        ("bxor", "i.a ^ i.b", Width::W),
        ("shl", "i.a << i.s", Width::W),
        ("shr", "i.a >> i.s", Width::W),
        ("neg", "-i.a", Width::W),
        ("inv", "~i.a", Width::W),
        ("lt", "(bit<1>)(i.a < i.b)", Width::Fixed(1)),
        ("gt", "(bit<1>)(i.a > i.b)", Width::Fixed(1)),
        ("le", "(bit<1>)(i.a <= i.b)", Width::Fixed(1)),
        ("ge", "(bit<1>)(i.a >= i.b)", Width::Fixed(1)),
        ("eq", "(bit<1>)(i.a == i.b)", Width::Fixed(1)),
        ("ne", "(bit<1>)(i.a != i.b)", Width::Fixed(1)),
        ("wide", "(bit<W2>)i.a", Width::Fixed(0)),
    ];
    if !signed {
        v.push(("cat", "i.a ++ i.b", Width::Double));
    }
    v
}

#[derive(Clone, Copy)]
enum Width {
    W,
    Double,
    /// 0: W + 13 (a widening cast).
    Fixed(u32),
}

fn width_of(w: Width, width: u32) -> u32 {
    match w {
        Width::W => width,
        Width::Double => 2 * width,
        Width::Fixed(0) => width + 13,
        Width::Fixed(n) => n,
    }
}

fn program(width: u32, signed: bool) -> String {
    let t = if signed {
        format!("int<{width}>")
    } else {
        format!("bit<{width}>")
    };
    let mut out_fields = String::new();
    let mut body = String::new();
    for (name, expr, w) in results(signed) {
        let fw = width_of(w, width);
        let ty = match w {
            Width::W => t.clone(),
            _ => format!("bit<{fw}>"),
        };
        out_fields.push_str(&format!("    {ty} {name};\n"));
        let expr = expr.replace("W2", &fw.to_string());
        body.push_str(&format!("        hdr.o.{name} = {expr};\n"));
    }
    format!(
        r#"#include <core.p4>
#include <tc/pna.p4>
header in_t {{ {t} a; {t} b; bit<8> s; }}
header out_t {{
{out_fields}}}
struct headers_t {{ in_t i; out_t o; }}
struct metadata_t {{ }}
parser P(packet_in pkt, out headers_t hdr, inout metadata_t meta, in pna_main_parser_input_metadata_t istd) {{
    state start {{ pkt.extract(hdr.i); transition accept; }}
}}
control C(inout headers_t hdr, inout metadata_t meta, in pna_main_input_metadata_t istd, inout pna_main_output_metadata_t ostd) {{
    apply {{
        in_t i = hdr.i;
        hdr.o.setValid();
{body}        send_to_port((PortId_t)1);
    }}
}}
control D(packet_out pkt, inout headers_t hdr, in metadata_t meta, in pna_main_output_metadata_t ostd) {{
    apply {{ pkt.emit(hdr.o); }}
}}
PNA_NIC(P(), C(), D()) main;
"#
    )
}

fn load_source(name: String, text: String) -> Arc<p4tc_ir::ir::Module> {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let mut parsed = p4tc_front::parse_source(&name, &text, &Default::default());
            let m = p4tc_front::check(&mut parsed);
            assert!(
                !parsed.has_errors(),
                "{}\n{text}",
                parsed.render_diagnostics()
            );
            Arc::new(m.expect("module"))
        })
        .unwrap()
        .join()
        .unwrap()
}

/// Bits of `v` (a `width`-bit pattern), appended big-endian.
fn push_bits(bits: &mut Vec<bool>, v: &BigUint, width: u32) {
    for i in (0..width).rev() {
        bits.push(v.bit(u64::from(i)));
    }
}

fn to_bytes(bits: &[bool]) -> Vec<u8> {
    bits.chunks(8)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |acc, (i, &b)| acc | (u8::from(b) << (7 - i)))
        })
        .collect()
}

fn signed_value(p: &BigUint, width: u32, signed: bool) -> BigInt {
    let v = BigInt::from_biguint(Sign::Plus, p.clone());
    if signed && p.bit(u64::from(width - 1)) {
        v - (BigInt::one() << width)
    } else {
        v
    }
}

fn pattern(v: &BigInt, width: u32) -> BigUint {
    let m = BigInt::one() << width;
    let r = ((v % &m) + &m) % &m;
    r.to_biguint().unwrap()
}

fn expected(width: u32, signed: bool, a: &BigUint, b: &BigUint, s: u32) -> Vec<u8> {
    let (x, y) = (
        signed_value(a, width, signed),
        signed_value(b, width, signed),
    );
    let (min, max): (BigInt, BigInt) = if signed {
        (
            -(BigInt::one() << (width - 1)),
            (BigInt::one() << (width - 1)) - 1,
        )
    } else {
        (BigInt::zero(), (BigInt::one() << width) - 1)
    };
    let mut bits = Vec::new();
    let flag = |c: bool| BigUint::from(u8::from(c));
    for (name, _, w) in results(signed) {
        let fw = width_of(w, width);
        let v = match name {
            "add" => pattern(&(&x + &y), width),
            "sub" => pattern(&(&x - &y), width),
            "mul" => pattern(&(&x * &y), width),
            "sadd" => pattern(&(&x + &y).clamp(min.clone(), max.clone()), width),
            "ssub" => pattern(&(&x - &y).clamp(min.clone(), max.clone()), width),
            "band" => a & b,
            "bor" => a | b,
            "bxor" => a ^ b,
            "shl" => {
                if s >= width {
                    BigUint::zero()
                } else {
                    pattern(&(&x << s), width)
                }
            }
            "shr" => pattern(&(&x >> s.min(width + 1)), width),
            "neg" => pattern(&-&x, width),
            "inv" => pattern(&(-&x - 1), width),
            "lt" => flag(x < y),
            "gt" => flag(x > y),
            "le" => flag(x <= y),
            "ge" => flag(x >= y),
            "eq" => flag(x == y),
            "ne" => flag(x != y),
            "wide" => pattern(&x, fw),
            "cat" => (a << width) | b,
            _ => unreachable!(),
        };
        push_bits(&mut bits, &v, fw);
    }
    to_bytes(&bits)
}

fn value(words: &[u64], kind: u8, width: u32) -> BigUint {
    let all = (BigUint::one() << width) - 1u8;
    match kind % 5 {
        0 => BigUint::zero(),
        1 => all,
        2 => BigUint::one() << (width - 1),
        _ => {
            let digits: Vec<u32> = words
                .iter()
                .flat_map(|w| [*w as u32, (*w >> 32) as u32])
                .collect();
            BigUint::from_slice(&digits) & all
        }
    }
}

#[test]
fn operators_at_every_width_match_bigint() {
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 40,
        ..Default::default()
    });
    for &width in &WIDTHS {
        for signed in [false, true] {
            let m = load_source(format!("w{width}.p4"), program(width, signed));
            let interp =
                std::cell::RefCell::new(Interpreter::new(Arc::clone(&m), 0).expect("compiles"));
            let dp = std::cell::RefCell::new(common::Double::new(&m));
            let strategy = (
                proptest::collection::vec(any::<u64>(), 4),
                proptest::collection::vec(any::<u64>(), 4),
                any::<u8>(),
                any::<u8>(),
                any::<u8>(),
            );
            runner
                .run(&strategy, |(wa, wb, ka, kb, s)| {
                    let a = value(&wa, ka, width);
                    let b = value(&wb, kb, width);
                    let mut bits = Vec::new();
                    push_bits(&mut bits, &a, width);
                    push_bits(&mut bits, &b, width);
                    push_bits(&mut bits, &BigUint::from(s), 8);
                    let pkt = to_bytes(&bits);
                    let mut interp = interp.borrow_mut();
                    let mut dp = dp.borrow_mut();
                    let out = interp.process(&mut *dp, &pkt, 1);
                    let want = expected(width, signed, &a, &b, u32::from(s));
                    prop_assert_eq!(
                        out.packet,
                        want.as_slice(),
                        "width {} signed {} a {} b {} s {}",
                        width,
                        signed,
                        a,
                        b,
                        s
                    );
                    Ok(())
                })
                .unwrap();
        }
    }
}
