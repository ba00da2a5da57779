use super::*;
use proptest::prelude::*;

fn one(text: &str) -> StatementKind {
    match parse(text) {
        Ok(mut v) if v.len() == 1 => v.remove(0).kind,
        other => panic!("expected one statement from {text:?}, got {other:?}"),
    }
}

fn err(text: &str) -> StfError {
    match parse(text) {
        Err(mut e) if e.len() == 1 => e.remove(0),
        other => panic!("expected one error from {text:?}, got {other:?}"),
    }
}

fn big(n: u64) -> BigUint {
    BigUint::from(n)
}

fn hex(value: u64, width: u32) -> Number {
    Number {
        value: big(value),
        care: None,
        width: Some(width),
    }
}

fn dec(value: u64) -> Number {
    Number {
        value: big(value),
        care: None,
        width: None,
    }
}

fn expectation(text: &str) -> Expectation {
    match one(&format!("expect 0 {text}")) {
        StatementKind::Expect {
            pattern: Some(p), ..
        } => p,
        other => panic!("not an expectation: {other:?}"),
    }
}

#[test]
fn add_exact_with_dotted_names() {
    let s = one(
        "add ingress.nh_table dstAddr:0x0a000002 ingress.send_nh(port:0x1, srcMac:0x000102030405, dstMac:0xAABBCCDDEEFF)",
    );
    let StatementKind::Add {
        table,
        priority,
        keys,
        action,
        id,
    } = s
    else {
        panic!("not an add: {s:?}")
    };
    assert_eq!(table, "ingress.nh_table");
    assert_eq!(priority, None);
    assert_eq!(id, None);
    assert_eq!(
        keys,
        vec![Key {
            name: "dstAddr".into(),
            value: KeyValue::Value(hex(0x0a00_0002, 32)),
        }]
    );
    assert_eq!(action.name, "ingress.send_nh");
    assert_eq!(
        action.args,
        vec![
            ("port".into(), hex(1, 4)),
            ("srcMac".into(), hex(0x0001_0203_0405, 48)),
            ("dstMac".into(), hex(0xaabb_ccdd_eeff, 48)),
        ]
    );
}

#[test]
fn add_with_priority_id_and_several_keys() {
    let s = one("ADD test1 503 data.f1:0x****0202 data.$valid:0b1 setb1(val:7, port:3) = A");
    let StatementKind::Add {
        priority,
        keys,
        action,
        id,
        ..
    } = s
    else {
        panic!("not an add: {s:?}")
    };
    assert_eq!(priority, Some(503));
    assert_eq!(id.as_deref(), Some("A"));
    assert_eq!(keys.len(), 2);
    assert_eq!(
        keys[0].value,
        KeyValue::Value(Number {
            value: big(0x0202),
            care: Some(big(0x0000_ffff)),
            width: Some(32),
        })
    );
    assert_eq!(keys[1].name, "data.$valid");
    assert_eq!(keys[1].value, KeyValue::Value(hex(1, 1)));
    assert_eq!(
        action.args,
        vec![("val".into(), dec(7)), ("port".into(), dec(3))]
    );
}

#[test]
fn priorities_zero_and_large_are_kept_as_written() {
    let prio = |t: &str| match one(t) {
        StatementKind::Add { priority, .. } => priority,
        other => panic!("{other:?}"),
    };
    assert_eq!(prio("add t 0 k:1 a()"), Some(0));
    assert_eq!(prio("add t 4294967295 k:1 a()"), Some(u32::MAX));
    assert_eq!(prio("add t k:1 a()"), None);
    let e = err("add t 4294967296 k:1 a()");
    assert_eq!((e.line, e.column), (1, 7));
    assert!(e.message.contains("too large"), "{}", e.message);
    let e = err("add t 0x10 k:1 a()");
    assert!(e.message.contains("priority"), "{}", e.message);
}

#[test]
fn key_forms() {
    let key = |t: &str| match one(&format!("add t k:{t} a()")) {
        StatementKind::Add { mut keys, .. } => keys.remove(0).value,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        key("0x0a000000/8"),
        KeyValue::Prefix {
            value: hex(0x0a00_0000, 32),
            prefix_len: 8
        }
    );
    assert_eq!(
        key("0x0a000000&&&0xff000000"),
        KeyValue::Mask {
            value: hex(0x0a00_0000, 32),
            mask: hex(0xff00_0000, 32)
        }
    );
    assert_eq!(
        key("1..5"),
        KeyValue::Range {
            low: dec(1),
            high: dec(5)
        }
    );
    assert_eq!(
        key("0x0a****02"),
        KeyValue::Value(Number {
            value: big(0x0a00_0002),
            care: Some(big(0xff00_00ff)),
            width: Some(32),
        })
    );
    assert_eq!(
        key("0b1*0"),
        KeyValue::Value(Number {
            value: big(0b100),
            care: Some(big(0b101)),
            width: Some(3),
        })
    );
    assert_eq!(key("10"), KeyValue::Value(dec(10)));
    // Wider than 128 bits stays exact.
    let wide = format!("0x{}", "f".repeat(40));
    let KeyValue::Value(n) = key(&wide) else {
        panic!()
    };
    assert_eq!(n.value, (BigUint::from(1u8) << 160u32) - 1u8);
    assert_eq!(n.width, Some(160));
}

#[test]
fn prefix_len_of_wildcards() {
    let n = parse_number("0x0a******").unwrap();
    assert_eq!(n.prefix_len(), Some(8));
    assert_eq!(parse_number("0x0a000000").unwrap().prefix_len(), Some(32));
    assert_eq!(parse_number("0x********").unwrap().prefix_len(), Some(0));
    assert_eq!(parse_number("0x0a****02").unwrap().prefix_len(), None);
    assert_eq!(parse_number("10").unwrap().prefix_len(), None);
}

#[test]
fn quoted_and_indexed_names() {
    let s = one("add \"my table\" hdr.opt[2].kind:1 \"act\"()");
    let StatementKind::Add {
        table,
        keys,
        action,
        ..
    } = s
    else {
        panic!()
    };
    assert_eq!(table, "my table");
    assert_eq!(keys[0].name, "hdr.opt[2].kind");
    assert_eq!(action.name, "act");
    assert!(action.args.is_empty());
}

#[test]
fn remove_forms() {
    assert_eq!(one("remove all"), StatementKind::Remove(RemoveTarget::All));
    assert_eq!(one("REMOVE ALL"), StatementKind::Remove(RemoveTarget::All));
    assert_eq!(
        one("remove ingress.t k:0x01 j:2/4"),
        StatementKind::Remove(RemoveTarget::Entry {
            table: "ingress.t".into(),
            keys: vec![
                Key {
                    name: "k".into(),
                    value: KeyValue::Value(hex(1, 8))
                },
                Key {
                    name: "j".into(),
                    value: KeyValue::Prefix {
                        value: dec(2),
                        prefix_len: 4
                    }
                },
            ],
        })
    );
    let e = err("remove t");
    assert!(e.message.contains("keys of the entry"), "{}", e.message);
}

#[test]
fn setdefault() {
    assert_eq!(
        one("setdefault ethertype_match l2_packet()"),
        StatementKind::SetDefault {
            table: "ethertype_match".into(),
            action: ActionCall {
                name: "l2_packet".into(),
                args: vec![]
            }
        }
    );
    let e = err("setdefault t a");
    assert!(e.message.contains("`(` after action `a`"), "{}", e.message);
}

#[test]
fn packet_ignores_spaces() {
    assert_eq!(
        one("packet 0 10000002 aabb 1 0 00"),
        StatementKind::Packet {
            port: 0,
            data: vec![0x10, 0, 0, 2, 0xaa, 0xbb, 0x10, 0]
        }
    );
    assert_eq!(
        one("packet 7"),
        StatementKind::Packet {
            port: 7,
            data: vec![]
        }
    );
}

#[test]
fn expect_forms() {
    assert_eq!(
        one("expect 5"),
        StatementKind::Expect {
            port: 5,
            pattern: None
        }
    );
    assert_eq!(
        one("expect 1 a* 0$"),
        StatementKind::Expect {
            port: 1,
            pattern: Some(Expectation {
                nibbles: vec![Some(0xa), None, Some(0)],
                exact_len: true
            })
        }
    );
}

#[test]
fn other_statements() {
    assert_eq!(one("no_packet"), StatementKind::NoPacket);
    assert_eq!(one("wait"), StatementKind::Wait);
    assert_eq!(one("WAIT # done"), StatementKind::Wait);
    assert_eq!(
        one("check_counter cntDum(10) packets == 2"),
        StatementKind::CheckCounter {
            counter: "cntDum".into(),
            index: CounterIndex::Index(big(10)),
            check: Some(CounterCheck {
                kind: CountKind::Packets,
                op: CmpOp::Eq,
                value: big(2)
            })
        }
    );
    assert_eq!(
        one("check_counter ingress.cnt($A)"),
        StatementKind::CheckCounter {
            counter: "ingress.cnt".into(),
            index: CounterIndex::Entry("$A".into()),
            check: None
        }
    );
    for (op, want) in [
        ("==", CmpOp::Eq),
        ("!=", CmpOp::Ne),
        ("<", CmpOp::Lt),
        ("<=", CmpOp::Le),
        (">", CmpOp::Gt),
        (">=", CmpOp::Ge),
    ] {
        match one(&format!("check_counter c(0x1) bytes {op} 0x40")) {
            StatementKind::CheckCounter { check: Some(c), .. } => {
                assert_eq!(c.op, want);
                assert_eq!(c.kind, CountKind::Bytes);
                assert_eq!(c.value, big(64));
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(CmpOp::Le.holds(&big(2), &big(2)));
    assert!(!CmpOp::Lt.holds(&big(2), &big(2)));
    assert!(CmpOp::Ne.holds(&big(1), &big(2)));
}

#[test]
fn comments_blank_lines_and_line_numbers() {
    let text = "# a comment\n\n   \nadd t k:1 a() # trailing\n\twait\n";
    let v = parse(text).unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].line, 4);
    assert_eq!(v[1].line, 5);
    assert_eq!(v[1].kind, StatementKind::Wait);
}

#[test]
fn every_bad_line_is_reported() {
    let text = "frobnicate 1\nwait\npacket x 00\nexpect 1 zz\nadd t k:0xg a()\n";
    let errors = parse(text).unwrap_err();
    let at: Vec<_> = errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(at, vec![(1, 1), (3, 8), (4, 10), (5, 9)]);
    assert!(errors[0].message.contains("unknown statement `frobnicate`"));
    assert!(errors[1].message.contains("invalid port `x`"));
    assert!(errors[2]
        .message
        .contains("invalid expected packet data `z`"));
    assert!(errors[3].message.contains("`g` is not a hex digit"));
    assert_eq!(errors[3].to_string(), format!("5:9: {}", errors[3].message));
}

#[test]
fn error_cases() {
    let cases: &[(&str, usize, &str)] = &[
        ("packet", 7, "needs a port"),
        ("packet 99999999999 00", 8, "too large"),
        ("packet 0 abc", 10, "odd number of hex digits"),
        ("packet 0 00 *", 13, "invalid packet data `*`"),
        ("expect 1 00 $ 11", 15, "must end"),
        ("expect", 7, "needs a port"),
        ("add", 4, "a table name"),
        ("add t", 6, "action call"),
        ("add t a()", 10, "at least one key"),
        ("add t k a()", 9, "expected `:` after key `k`"),
        ("add t k: a()", 10, "expected a key value"),
        ("add t k:1 a(", 13, "an argument name"),
        ("add t k:1 a(x)", 14, "`:` after argument `x`"),
        ("add t k:1 a(x:1 y:2)", 17, "`,` or `)`"),
        ("add t k:1 a(x:0x*)", 15, "cannot have `*`"),
        ("add t k:1 a() =", 16, "entry name"),
        ("add t k:1 a() = A B", 19, "after the end of the `add`"),
        ("add t k:0x** /8 a()", 9, "`*` digits"),
        ("add t k:1/0x8 a()", 11, "prefix length is a decimal"),
        ("add t k:0xff/9 a()", 14, "longer than the 8 bits"),
        ("add t k:1&&&0x* a()", 13, "a mask cannot"),
        ("add t k:5..1 a()", 9, "range is empty"),
        ("add t k:1.. a()", 13, "high end"),
        ("add t k:12a a()", 9, "not a decimal digit"),
        ("add t k:0x a()", 9, "no digits"),
        ("add t k:0b102 a()", 9, "not a binary digit"),
        ("add t k:1 a() ~", 15, "unexpected character `~`"),
        ("add \"t k:1 a()", 5, "not closed"),
        ("add t.[1] k:1 a()", 7, "a name after `t.`"),
        ("add t[x] k:1 a()", 7, "decimal index"),
        ("remove", 7, "`all` or a table name"),
        ("remove all t", 13, "`:` after key `t`"),
        ("setdefault", 11, "table name"),
        ("check_counter", 14, "counter name"),
        ("check_counter c", 16, "`(` after counter `c`"),
        ("check_counter c()", 17, "index or entry name"),
        ("check_counter c(1", 18, "`)`"),
        ("check_counter c(1) frames == 1", 20, "`packets` or `bytes`"),
        ("check_counter c(1) packets = 1", 28, "a comparison"),
        ("check_counter c(1) packets ==", 30, "a count"),
        ("wait now", 6, "after the end of the `wait`"),
        ("no_packet 1", 11, "after the end of the `no_packet`"),
    ];
    for (text, column, needle) in cases {
        let e = err(text);
        assert_eq!(e.line, 1, "{text}");
        assert!(
            e.message.contains(needle),
            "{text:?}: message {:?} lacks {needle:?}",
            e.message
        );
        assert_eq!(e.column, *column, "{text:?}: {}", e.message);
    }
}

#[test]
fn columns_count_characters_not_bytes() {
    let e = err("add \"té\" k:1 a() ~");
    assert_eq!(e.column, 18, "{}", e.message);
    let e = err("expect 1 é");
    assert_eq!(e.column, 10);
}

#[test]
fn star_nibbles_match_anything() {
    let e = expectation("a* *b");
    assert!(e.matches(&[0xa0, 0x0b]));
    assert!(e.matches(&[0xaf, 0xfb]));
    assert!(!e.matches(&[0xb0, 0x0b]));
    assert!(!e.matches(&[0xa0, 0x0c]));
    // Without `$`, a longer packet matches on its prefix.
    assert!(e.matches(&[0xa0, 0x0b, 0x11]));
    // Too short never matches, even on don't-cares.
    assert!(!expectation("aa **").matches(&[0xaa]));
}

#[test]
fn dollar_demands_exact_length() {
    let e = expectation("aabb$");
    assert!(e.exact_len);
    assert!(e.matches(&[0xaa, 0xbb]));
    assert!(!e.matches(&[0xaa, 0xbb, 0x00]));
    assert!(!e.matches(&[0xaa]));
    // An odd pattern with `$` can never be met by whole bytes.
    assert!(!expectation("aab$").matches(&[0xaa, 0xb0]));
    // An odd pattern without `$` compares its digits.
    assert!(expectation("aab").matches(&[0xaa, 0xb7]));
    // `$` alone: the empty packet.
    let empty = expectation("$");
    assert!(empty.matches(&[]));
    assert!(!empty.matches(&[0]));
}

#[test]
fn diff_marks_differing_nibbles() {
    let e = expectation("aabb**dd");
    let d = e.diff(&[0xaa, 0xbc, 0x12, 0xdd]);
    assert!(
        d.contains("1 hex digit(s) differ, the first in byte 1"),
        "{d}"
    );
    assert!(d.contains("expected aabb**dd"), "{d}");
    assert!(d.contains("received aabc12dd"), "{d}");
    assert!(d.contains("                  ^\n"), "{d}");
    let d = expectation("aabb$").diff(&[0xaa, 0xbb, 0xcc]);
    assert!(
        d.contains("expected exactly 2 bytes, received 3 bytes"),
        "{d}"
    );
    assert!(d.contains("expected aabb__"), "{d}");
    assert!(d.contains("received aabbcc"), "{d}");
    let d = expectation("aabbcc").diff(&[0xaa]);
    assert!(d.contains("at least 3 bytes"), "{d}");
    assert!(d.contains("received aa____"), "{d}");
    let d = expectation("aa").diff(&[0xaa, 0x11]);
    assert!(d.contains("the packet matches"), "{d}");
    // Long packets wrap into 16-byte rows with offsets.
    let long = expectation(&"00".repeat(20));
    let mut pkt = vec![0u8; 20];
    pkt[17] = 1;
    let d = long.diff(&pkt);
    assert!(d.contains("0010  expected"), "{d}");
    assert!(d.contains("first in byte 17"), "{d}");
}

/// Pieces of STF, so random texts often get deep into the parser rather than failing on the
/// first character; a plain string regex with this many alternatives is slow to generate.
const FRAGMENTS: &[&str] = &[
    "add ",
    "remove ",
    "setdefault ",
    "packet ",
    "expect ",
    "check_counter ",
    "wait",
    "no_packet",
    "all",
    "t",
    "a.b",
    "$A",
    "\"q\"",
    "0",
    "17",
    "0x0a",
    "0x*f",
    "0b1*",
    "0x",
    " ",
    " ",
    "\n",
    ":",
    ",",
    "(",
    ")",
    "[",
    "]",
    "/",
    "=",
    "==",
    "<=",
    ">",
    "!",
    "&&&",
    "..",
    ".",
    "*",
    "$",
    "#",
    "packets",
    "bytes",
    "é",
];

proptest! {
    #[test]
    fn parse_never_panics(text in ".{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn stf_like_text_never_panics(
        parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..40)
    ) {
        let text = parts.concat();
        if let Ok(statements) = parse(&text) {
            for s in statements {
                if let StatementKind::Expect { pattern: Some(p), .. } = s.kind {
                    let _ = p.matches(&[0x12, 0x34]);
                    let _ = p.diff(&[0x12, 0x34]);
                }
            }
        }
    }

    #[test]
    fn matches_agrees_with_diff(
        pattern in "[0-9a-f*]{1,12}\\$?",
        packet in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let e = expectation(&pattern);
        let d = e.diff(&packet);
        prop_assert_eq!(e.matches(&packet), d.contains("the packet matches"), "{}", d);
    }
}
