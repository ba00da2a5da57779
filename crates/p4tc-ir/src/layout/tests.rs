use num_bigint::BigUint;

use super::test_support::ModuleBuilder;
use super::*;
use crate::ir::{LocalKind, Value};
use crate::Span;

fn big(hex: &str) -> BigUint {
    BigUint::parse_bytes(hex.as_bytes(), 16).unwrap_or_default()
}

/// Where each field lies: (name, width, offset, size).
fn placement(layout: &KeyLayout) -> Vec<(&str, u32, u32, u32)> {
    layout
        .fields
        .iter()
        .map(|f| {
            (
                f.field.name.as_str(),
                f.field.width,
                f.field.offset,
                f.field.size,
            )
        })
        .collect()
}

#[test]
fn exact_key_packs_whole_bytes_in_order_and_pads_to_four() {
    let mut b = ModuleBuilder::new();
    let (b32, b8, b9) = (b.bits(32), b.bits(8), b.bits(9));
    let c = b.control("ingress");
    let t = b
        .table(c, "t")
        .key("a", b32, "exact")
        .key("b", b8, "exact")
        .key("c", b9, "exact")
        .build();
    let layout = table_key_layout(&b.module, t).unwrap();
    assert_eq!(layout.kind, TableKind::Exact);
    assert_eq!(
        placement(&layout),
        [("a", 32, 0, 4), ("b", 8, 4, 1), ("c", 9, 5, 2)]
    );
    assert_eq!(
        (
            layout.width,
            layout.header_size,
            layout.data_size,
            layout.size
        ),
        (49, 0, 7, 8)
    );

    let values = [big("0a000001"), big("7f"), big("1ff")];
    let blob = layout.encode_key(&values).unwrap();
    assert_eq!(blob, [0x0a, 0, 0, 1, 0x7f, 0x01, 0xff, 0]);
    assert_eq!(layout.decode_key(&blob).unwrap(), values);
    // u128 values pack the same bytes.
    assert_eq!(
        layout.encode_key(&[0x0a00_0001u128, 0x7f, 0x1ff]).unwrap(),
        blob
    );
}

#[test]
fn odd_widths_round_trip_at_their_extremes() {
    for width in [
        1u32, 7, 8, 9, 12, 13, 16, 31, 32, 33, 48, 63, 64, 65, 127, 128, 129, 200,
    ] {
        let field = FieldLayout {
            name: "f".into(),
            width,
            offset: 3,
            size: FieldLayout::bytes_for(width),
        };
        let mut blob = vec![0u8; field.offset as usize + field.size as usize + 2];
        let max = (BigUint::from(1u8) << width) - 1u8;
        for value in [
            BigUint::from(0u8),
            BigUint::from(1u8),
            max.clone(),
            &max >> 1u32,
        ] {
            field.write(&mut blob, &value).unwrap();
            assert_eq!(field.read(&blob).unwrap(), value, "width {width}");
            if width <= 128 {
                let as_u128 = u128::try_from(&value).unwrap();
                assert_eq!(field.read_u128(&blob).unwrap(), as_u128);
                field.write(&mut blob, &as_u128).unwrap();
                assert_eq!(field.read(&blob).unwrap(), value);
            }
        }
        // Bytes around the field stay untouched.
        assert_eq!(&blob[..3], [0, 0, 0]);
        assert_eq!(&blob[blob.len() - 2..], [0, 0]);
        // One bit too many is refused.
        let too_wide = BigUint::from(1u8) << width;
        assert_eq!(
            field.write(&mut blob, &too_wide),
            Err(EncodeError::TooWide {
                field: "f".into(),
                width
            })
        );
    }
}

#[test]
fn pseudo_random_round_trips() {
    // A fixed LCG keeps the test deterministic without a dev-dependency.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state
    };
    let mut b = ModuleBuilder::new();
    let c = b.control("ingress");
    let widths = [9u32, 48, 128, 1, 13, 64, 3];
    let types: Vec<_> = widths.iter().map(|&w| b.bits(w)).collect();
    let mut tb = b.table(c, "t");
    for (i, ty) in types.iter().enumerate() {
        tb = tb.key(&format!("k{i}"), *ty, "exact");
    }
    let t = tb.build();
    let layout = table_key_layout(&b.module, t).unwrap();
    for _ in 0..200 {
        let values: Vec<BigUint> = widths
            .iter()
            .map(|&w| {
                let raw = (u128::from(next()) << 64) | u128::from(next());
                let v = if w >= 128 {
                    raw
                } else {
                    raw & ((1u128 << w) - 1)
                };
                BigUint::from(v)
            })
            .collect();
        let blob = layout.encode_key(&values).unwrap();
        assert_eq!(blob.len(), layout.size as usize);
        assert_eq!(layout.decode_key(&blob).unwrap(), values);
    }
}

#[test]
fn lpm_field_goes_last_after_a_prefix_length_word() {
    let mut b = ModuleBuilder::new();
    let (b32, b16) = (b.bits(32), b.bits(16));
    let c = b.control("ingress");
    let t = b
        .table(c, "fib")
        .key("dst", b32, "lpm")
        .key("vrf", b16, "exact")
        .build();
    let layout = table_key_layout(&b.module, t).unwrap();
    assert_eq!(layout.kind, TableKind::Lpm);
    // Declaration order is kept in `fields`; the offsets put the LPM field last.
    assert_eq!(placement(&layout), [("dst", 32, 6, 4), ("vrf", 16, 4, 2)]);
    let placed: Vec<_> = layout
        .placement()
        .iter()
        .map(|f| f.field.name.as_str())
        .collect();
    assert_eq!(placed, ["vrf", "dst"]);
    assert_eq!(
        (
            layout.header_size,
            layout.data_size,
            layout.size,
            layout.width
        ),
        (4, 6, 12, 48)
    );
    assert_eq!(layout.lpm_prefix_base(), Some(16));
    assert_eq!(layout.max_prefix_len(), Some(48));

    // 10.1.2.3/8 in vrf 7: the host bits are cleared and prefixlen = 16 + 8.
    let entry = layout.encode_lpm_entry(&[0x0a01_0203u32, 7], 8).unwrap();
    let mut expected = 24u32.to_ne_bytes().to_vec();
    expected.extend([0, 7, 0x0a, 0, 0, 0, 0, 0]);
    assert_eq!(entry, expected);
    let (values, prefix) = layout.decode_lpm_entry(&entry).unwrap();
    assert_eq!(values, [BigUint::from(0x0a00_0000u32), BigUint::from(7u8)]);
    assert_eq!(prefix, 8);

    // A lookup key carries every bit.
    let lookup = layout.encode_key(&[0x0a01_0203u32, 7]).unwrap();
    assert_eq!(&lookup[..4], 48u32.to_ne_bytes());
    assert_eq!(&lookup[4..10], [0, 7, 0x0a, 1, 2, 3]);
    assert_eq!(layout.decode_lpm_entry(&lookup).unwrap().1, 32);

    // Prefix 0 and the full prefix are both fine; longer is not.
    assert!(layout.encode_lpm_entry(&[0u32, 0], 0).is_ok());
    assert!(layout.encode_lpm_entry(&[0u32, 0], 32).is_ok());
    assert_eq!(
        layout.encode_lpm_entry(&[0u32, 0], 33),
        Err(EncodeError::Prefix {
            field: "dst".into(),
            prefix: 33,
            width: 32
        })
    );
    // A prefix length word that does not cover the exact fields is malformed.
    let mut bad = entry.clone();
    bad[..4].copy_from_slice(&15u32.to_ne_bytes());
    assert!(matches!(
        layout.decode_lpm_entry(&bad),
        Err(EncodeError::PrefixWord { .. })
    ));
    // LPM entries take prefixes, not masks.
    assert_eq!(layout.encode_mask(&[0u32, 0]), Err(EncodeError::MaskOnLpm));
}

#[test]
fn lpm_on_an_odd_width_counts_its_pad_bits() {
    let mut b = ModuleBuilder::new();
    let b9 = b.bits(9);
    let c = b.control("c");
    let t = b.table(c, "t").key("p", b9, "lpm").build();
    let layout = table_key_layout(&b.module, t).unwrap();
    assert_eq!(placement(&layout), [("p", 9, 4, 2)]);
    // Seven pad bits precede the value in its two bytes.
    assert_eq!(layout.lpm_prefix_base(), Some(7));
    assert_eq!(layout.max_prefix_len(), Some(16));
    // 0b1_1010_0101 / 3 keeps the top three bits 0b110.
    let entry = layout.encode_lpm_entry(&[0b1_1010_0101u16], 3).unwrap();
    assert_eq!(&entry[..4], 10u32.to_ne_bytes());
    assert_eq!(&entry[4..6], [0b1, 0b1000_0000]);
    let (values, prefix) = layout.decode_lpm_entry(&entry).unwrap();
    assert_eq!((values, prefix), (vec![BigUint::from(0b1_1000_0000u16)], 3));
}

#[test]
fn table_kinds_follow_p4tc() {
    let mut b = ModuleBuilder::new();
    let b8 = b.bits(8);
    let c = b.control("c");
    let kind = |b: &mut ModuleBuilder, kinds: &[&str]| {
        let mut tb = b.table(c, "t");
        for (i, k) in kinds.iter().enumerate() {
            tb = tb.key(&format!("k{i}"), b8, k);
        }
        let t = tb.build();
        table_key_layout(&b.module, t).map(|l| l.kind)
    };
    assert_eq!(kind(&mut b, &[]), Ok(TableKind::Exact));
    assert_eq!(kind(&mut b, &["exact", "exact"]), Ok(TableKind::Exact));
    assert_eq!(kind(&mut b, &["lpm"]), Ok(TableKind::Lpm));
    assert_eq!(kind(&mut b, &["exact", "lpm", "exact"]), Ok(TableKind::Lpm));
    assert_eq!(kind(&mut b, &["lpm", "lpm"]), Ok(TableKind::Ternary));
    assert_eq!(kind(&mut b, &["exact", "ternary"]), Ok(TableKind::Ternary));
    assert_eq!(kind(&mut b, &["range"]), Ok(TableKind::Ternary));
    assert_eq!(kind(&mut b, &["optional", "exact"]), Ok(TableKind::Ternary));
    assert_eq!(
        kind(&mut b, &["exact", "selector"]),
        Err(LayoutError::MatchKind {
            table: "c.t".into(),
            key: "k1".into(),
            match_kind: "selector".into(),
            span: Span::default()
        })
    );
}

#[test]
fn keyless_table_has_a_four_byte_zero_key() {
    let mut b = ModuleBuilder::new();
    let c = b.control("c");
    let t = b.table(c, "t").build();
    let layout = table_key_layout(&b.module, t).unwrap();
    assert_eq!((layout.width, layout.data_size, layout.size), (0, 0, 4));
    let none: [u32; 0] = [];
    assert_eq!(layout.encode_key(&none).unwrap(), [0, 0, 0, 0]);
    assert_eq!(
        layout.decode_key(&[0, 0, 0, 0]).unwrap(),
        Vec::<BigUint>::new()
    );
}

#[test]
fn ternary_entries_store_the_masked_value() {
    let mut b = ModuleBuilder::new();
    let (b16, b8) = (b.bits(16), b.bits(8));
    let c = b.control("c");
    let t = b
        .table(c, "acl")
        .key("port", b16, "exact")
        .key("flags", b8, "ternary")
        .build();
    let layout = table_key_layout(&b.module, t).unwrap();
    assert_eq!(placement(&layout), [("port", 16, 0, 2), ("flags", 8, 2, 1)]);
    let (key, mask) = layout
        .encode_ternary_entry(&[0x1234u32, 0b1011_0110], &[0xffffu32, 0b0000_0110])
        .unwrap();
    assert_eq!(key, [0x12, 0x34, 0b0000_0110, 0]);
    assert_eq!(mask, [0xff, 0xff, 0b0000_0110, 0]);
    // A lookup masks the packet's key the same way and finds the entry.
    let mut lookup = layout.encode_key(&[0x1234u32, 0b1111_0111]).unwrap();
    layout.apply_mask(&mut lookup, &mask).unwrap();
    assert_eq!(lookup, key);
    assert_eq!(
        layout.decode_key(&mask).unwrap(),
        [BigUint::from(0xffffu32), BigUint::from(6u8)]
    );
    // Prefix masks for LPM fields matched in a ternary table.
    assert_eq!(
        layout.fields[0].field.prefix_mask(4).unwrap(),
        BigUint::from(0xf000u32)
    );
    assert_eq!(
        layout.fields[0].field.prefix_mask(0).unwrap(),
        BigUint::from(0u8)
    );
    assert!(layout.fields[0].field.prefix_mask(17).is_err());
}

#[test]
fn widths_come_from_bool_enums_and_newtypes() {
    let mut b = ModuleBuilder::new();
    let b48 = b.bits(48);
    let b16 = b.bits(16);
    let mac = b.newtype("mac_t", b48);
    let mac2 = b.newtype("mac2_t", mac);
    let boolean = b.bool();
    let ether = b.enumeration("ether_t", Some(b16), &["IPV4", "IPV6"]);
    let signed = b.int(8);
    let c = b.control("c");
    let t = b
        .table(c, "t")
        .key("m", mac2, "exact")
        .key("b", boolean, "exact")
        .key("e", ether, "exact")
        .key("s", signed, "exact")
        .build();
    let layout = table_key_layout(&b.module, t).unwrap();
    assert_eq!(
        placement(&layout),
        [
            ("m", 48, 0, 6),
            ("b", 1, 6, 1),
            ("e", 16, 7, 2),
            ("s", 8, 9, 1)
        ]
    );
    assert_eq!(layout.width, 73);
}

#[test]
fn keys_without_a_width_are_errors_naming_the_table_and_key() {
    let mut b = ModuleBuilder::new();
    let plain = b.enumeration("color_t", None, &["RED"]);
    let varbit = b.ty(crate::ir::Type::Varbit { max_width: 32 });
    let c = b.control("ingress");
    let t = b.table(c, "t").key("color", plain, "exact").build();
    assert_eq!(
        table_key_layout(&b.module, t),
        Err(LayoutError::KeyType {
            table: "ingress.t".into(),
            key: "color".into(),
            ty: "enum color_t (not serializable)".into(),
            span: Span::default()
        })
    );
    let t = b.table(c, "u").key("v", varbit, "exact").build();
    let err = table_key_layout(&b.module, t).unwrap_err();
    assert_eq!(
        err.to_string(),
        "table `ingress.u`: key field `v` has type varbit<32>, which has no fixed bit width"
    );
}

#[test]
fn keys_are_at_most_512_bits() {
    let mut b = ModuleBuilder::new();
    let b128 = b.bits(128);
    let b1 = b.bits(1);
    let c = b.control("c");
    let mut tb = b.table(c, "wide");
    for i in 0..4 {
        tb = tb.key(&format!("k{i}"), b128, "exact");
    }
    let t = tb.build();
    let layout = table_key_layout(&b.module, t).unwrap();
    assert_eq!((layout.width, layout.size), (512, 64));
    // bit<128> round trip at full width.
    let max = (BigUint::from(1u8) << 128u32) - 1u8;
    let values = vec![
        max.clone(),
        BigUint::from(0u8),
        max.clone(),
        BigUint::from(1u8),
    ];
    assert_eq!(
        layout
            .decode_key(&layout.encode_key(&values).unwrap())
            .unwrap(),
        values
    );

    let t = b
        .table(c, "wider")
        .key("a", b128, "exact")
        .key("b", b128, "exact")
        .key("c", b128, "exact")
        .key("d", b128, "exact")
        .key("e", b1, "exact")
        .build();
    assert_eq!(
        table_key_layout(&b.module, t),
        Err(LayoutError::KeyTooWide {
            table: "c.wider".into(),
            bits: 513,
            max: 512,
            span: Span::default()
        })
    );
}

#[test]
fn decoders_reject_malformed_blobs() {
    let mut b = ModuleBuilder::new();
    let b9 = b.bits(9);
    let c = b.control("c");
    let t = b.table(c, "t").key("p", b9, "exact").build();
    let layout = table_key_layout(&b.module, t).unwrap();
    assert_eq!(
        layout.decode_key(&[0, 0, 0]),
        Err(EncodeError::Size {
            expected: 2,
            got: 3
        })
    );
    // A pad bit of the 9-bit field.
    assert_eq!(
        layout.decode_key(&[0b10, 0]),
        Err(EncodeError::Padding { field: "p".into() })
    );
    // A padding byte of the blob (a 5-byte exact key is padded to 8).
    let b40 = b.bits(40);
    let padded = b.table(c, "padded").key("q", b40, "exact").build();
    let padded = table_key_layout(&b.module, padded).unwrap();
    assert_eq!(
        padded.decode_key(&[0, 0, 0, 0, 0, 0, 0, 1]),
        Err(EncodeError::Padding {
            field: "<padding>".into()
        })
    );
    assert_eq!(
        layout.encode_key(&[1u8, 2]),
        Err(EncodeError::Count {
            expected: 1,
            got: 2
        })
    );
    assert_eq!(
        layout.encode_lpm_entry(&[1u8], 1),
        Err(EncodeError::NotLpm { kind: "exact" })
    );
    let wide = FieldLayout {
        name: "w".into(),
        width: 129,
        offset: 0,
        size: 17,
    };
    assert_eq!(
        wide.read_u128(&[0; 17]),
        Err(EncodeError::WiderThanU128 {
            field: "w".into(),
            width: 129
        })
    );
}

#[test]
fn params_lay_out_action_data_only() {
    let mut b = ModuleBuilder::new();
    let (b32, b48, b9, b8) = (b.bits(32), b.bits(48), b.bits(9), b.bits(8));
    let c = b.control("ingress");
    let a = b.action_with(
        Some(c),
        "send_nh",
        &[
            ("x", b8, LocalKind::InOut),
            ("port", b32, LocalKind::Directionless),
            ("smac", b48, LocalKind::Directionless),
            ("q", b9, LocalKind::Directionless),
        ],
        Vec::new(),
    );
    let layout = action_param_layout(&b.module, a).unwrap();
    let got: Vec<_> = layout
        .params
        .iter()
        .map(|p| {
            (
                p.index,
                p.field.name.as_str(),
                p.field.width,
                p.field.offset,
                p.field.size,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "port", 32, 0, 4),
            (2, "smac", 48, 4, 6),
            (3, "q", 9, 10, 2)
        ]
    );
    assert_eq!((layout.data_size, layout.size), (12, 12));
    let values = [big("2"), big("000102030405"), big("100")];
    let blob = layout.encode(&values).unwrap();
    assert_eq!(blob, [0, 0, 0, 2, 0, 1, 2, 3, 4, 5, 1, 0]);
    assert_eq!(layout.decode(&blob).unwrap(), values);

    let none = b.action(None, "drop", &[]);
    let layout = action_param_layout(&b.module, none).unwrap();
    assert_eq!((layout.params.len(), layout.size), (0, 0));
    let no_values: [u8; 0] = [];
    assert_eq!(layout.encode(&no_values).unwrap(), Vec::<u8>::new());
}

#[test]
fn params_obey_p4tc_limits() {
    let mut b = ModuleBuilder::new();
    let b64 = b.bits(64);
    let b32 = b.bits(32);
    let b8 = b.bits(8);
    let names: Vec<String> = (0..17).map(|i| format!("p{i}")).collect();

    // 15 x 8 bytes + 4 = 124 bytes in 16 parameters: the most allowed.
    let mut params: Vec<(&str, _)> = names[..15].iter().map(|n| (n.as_str(), b64)).collect();
    params.push(("last", b32));
    let a = b.action(None, "full", &params);
    let layout = action_param_layout(&b.module, a).unwrap();
    assert_eq!(
        (layout.params.len(), layout.data_size, layout.size),
        (16, 124, 124)
    );

    // One byte more.
    let mut params: Vec<(&str, _)> = names[..15].iter().map(|n| (n.as_str(), b64)).collect();
    params.push(("last", b.bits(40)));
    let a = b.action(None, "big", &params);
    assert_eq!(
        action_param_layout(&b.module, a),
        Err(LayoutError::ParamsTooLarge {
            action: "big".into(),
            bytes: 125,
            max: 124,
            span: Span::default()
        })
    );

    // Seventeen small parameters.
    let params: Vec<(&str, _)> = names.iter().map(|n| (n.as_str(), b8)).collect();
    let c = b.control("ingress");
    let a = b.action(Some(c), "many", &params);
    let err = action_param_layout(&b.module, a).unwrap_err();
    assert_eq!(
        err,
        LayoutError::TooManyParams {
            action: "ingress.many".into(),
            count: 17,
            max: 16,
            span: Span::default()
        }
    );
    assert_eq!(
        err.to_string(),
        "action `ingress.many` has 17 action-data parameters; actions take at most 16"
    );

    let s = b.structure("s", &[]);
    let a = b.action(None, "bad", &[("s", s)]);
    assert_eq!(
        action_param_layout(&b.module, a),
        Err(LayoutError::ParamType {
            action: "bad".into(),
            param: "s".into(),
            ty: "struct s".into(),
            span: Span::default()
        })
    );
}

#[test]
fn counters_are_native_u64s() {
    let mut b = ModuleBuilder::new();
    let (b64, b32) = (b.bits(64), b.bits(32));
    let counter = b.extern_def("Counter", Vec::new());
    let direct = b.extern_def("DirectCounter", Vec::new());
    let c = b.control("ingress");
    let both = b.instance(
        Some(c),
        "both",
        counter,
        vec![b64, b32],
        vec![Value::Int(2048.into()), Value::Enum(2)],
    );
    let Ok(Some(ExternLayout::Counter(layout))) = extern_layout(&b.module, both) else {
        panic!("a counter layout");
    };
    assert_eq!(layout.kind, CounterKind::PacketsAndBytes);
    assert_eq!(
        (layout.packets_offset, layout.bytes_offset, layout.size),
        (Some(0), Some(8), 16)
    );
    assert_eq!(
        (
            layout.width,
            layout.index_width,
            layout.count,
            layout.direct
        ),
        (64, 32, Some(2048), false)
    );
    let value = CounterValue {
        packets: Some(3),
        bytes: Some(1500),
    };
    let blob = layout.encode(value);
    assert_eq!(&blob[..8], 3u64.to_ne_bytes());
    assert_eq!(layout.decode(&blob).unwrap(), value);

    let bytes = b.instance(Some(c), "bytes", direct, vec![b32], vec![Value::Enum(1)]);
    let Ok(Some(ExternLayout::Counter(layout))) = extern_layout(&b.module, bytes) else {
        panic!("a counter layout");
    };
    assert_eq!(
        (layout.packets_offset, layout.bytes_offset, layout.size),
        (None, Some(0), 8)
    );
    assert_eq!(
        (layout.width, layout.direct, layout.count),
        (32, true, None)
    );
    assert_eq!(
        layout.decode(&[0; 16]),
        Err(EncodeError::Size {
            expected: 8,
            got: 16
        })
    );

    let bad = b.instance(Some(c), "bad", direct, vec![b32], vec![Value::Enum(7)]);
    assert!(matches!(
        extern_layout(&b.module, bad),
        Err(LayoutError::Extern { .. })
    ));
}

#[test]
fn registers_and_digests_are_p4_values() {
    let mut b = ModuleBuilder::new();
    let (b32, b8, b48) = (b.bits(32), b.bits(8), b.bits(48));
    let register = b.extern_def("Register", Vec::new());
    let digest = b.extern_def("Digest", Vec::new());
    let meter = b.extern_def("Meter", Vec::new());
    let c = b.control("ingress");
    let reg1 = b.instance(
        Some(c),
        "reg1",
        register,
        vec![b32, b32],
        vec![Value::Int(10.into())],
    );
    let Ok(Some(ExternLayout::Register(layout))) = extern_layout(&b.module, reg1) else {
        panic!("a register layout");
    };
    assert_eq!(layout.count, Some(10));
    assert_eq!(
        layout.element.fields,
        [FieldLayout {
            name: "value".into(),
            width: 32,
            offset: 0,
            size: 4
        }]
    );
    assert_eq!(
        layout.element.encode(&[0x0102_0304u32]).unwrap(),
        [1, 2, 3, 4]
    );

    let pair = b.structure(
        "reg_val_t",
        &[("protocol", b8, Vec::new()), ("aux", b8, Vec::new())],
    );
    let reg3 = b.instance(
        Some(c),
        "reg3",
        register,
        vec![pair, b32],
        vec![Value::Int(3.into())],
    );
    let Ok(Some(ExternLayout::Register(layout))) = extern_layout(&b.module, reg3) else {
        panic!("a register layout");
    };
    assert!(matches!(layout.element.shape, ValueShape::Struct(_)));
    assert_eq!((layout.element.data_size, layout.element.size), (2, 4));
    let blob = layout.element.encode(&[6u8, 9]).unwrap();
    assert_eq!(blob, [6, 9, 0, 0]);
    assert_eq!(
        layout.element.decode(&blob).unwrap(),
        [BigUint::from(6u8), BigUint::from(9u8)]
    );

    let learn = b.structure(
        "learn_t",
        &[("mac", b48, Vec::new()), ("port", b32, Vec::new())],
    );
    let d = b.instance(Some(c), "d", digest, vec![learn], Vec::new());
    let Ok(Some(ExternLayout::Digest(layout))) = extern_layout(&b.module, d) else {
        panic!("a digest layout");
    };
    assert_eq!((layout.data_size, layout.size), (10, 12));

    let huge = b.bits(1032);
    let big_struct = b.structure("huge_t", &[("h", huge, Vec::new())]);
    let d = b.instance(Some(c), "too_big", digest, vec![big_struct], Vec::new());
    assert_eq!(
        extern_layout(&b.module, d),
        Err(LayoutError::DigestTooLarge {
            instance: "ingress.too_big".into(),
            bytes: 129,
            max: 128,
            span: Span::default()
        })
    );

    let m = b.instance(
        Some(c),
        "m",
        meter,
        vec![b32],
        vec![Value::Int(8.into()), Value::Enum(0)],
    );
    assert_eq!(extern_layout(&b.module, m), Ok(None));
}

#[test]
fn hand_made_layouts_do_not_panic() {
    // Fields are public; inconsistent ones must give errors, not panics.
    let roomy = FieldLayout {
        name: "r".into(),
        width: 8,
        offset: 0,
        size: 3,
    };
    assert_eq!(roomy.pad_bits(), 16);
    assert_eq!(roomy.read(&[0, 0, 7]).unwrap(), BigUint::from(7u8));
    assert_eq!(
        roomy.read(&[0, 1, 7]),
        Err(EncodeError::Padding { field: "r".into() })
    );
    let cramped = FieldLayout {
        name: "c".into(),
        width: 20,
        offset: 2,
        size: 1,
    };
    assert_eq!(cramped.pad_bits(), 0);
    assert_eq!(
        cramped.read(&[0, 0]),
        Err(EncodeError::Size {
            expected: 3,
            got: 2
        })
    );
    let lpm = KeyLayout {
        kind: TableKind::Lpm,
        fields: vec![KeyField {
            match_kind: MatchKind::Lpm,
            field: cramped,
        }],
        width: 20,
        header_size: 4,
        data_size: 1,
        size: 2,
    };
    assert!(lpm.encode_lpm_entry(&[1u8], 3).is_err());
    assert!(lpm.decode_lpm_entry(&[0, 0]).is_err());
    let counter = CounterLayout {
        direct: true,
        kind: CounterKind::Packets,
        width: 64,
        index_width: 32,
        count: None,
        packets_offset: Some(4),
        bytes_offset: None,
        size: 8,
    };
    assert_eq!(counter.encode(CounterValue::default()).len(), 8);
    assert!(counter.decode(&[0; 8]).is_err());
}

#[test]
fn exact_keys_are_sized_for_the_kernels_compare() {
    // Unpadded to 3 bytes, 8 from 4 to 8, then words; a keyless table keeps 4 bytes.
    let sizes: Vec<(u32, u32)> = [0, 1, 2, 3, 4, 5, 8, 9, 12, 13]
        .into_iter()
        .map(|n| (n, exact_key_size(n)))
        .collect();
    assert_eq!(
        sizes,
        [
            (0, 4),
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 8),
            (5, 8),
            (8, 8),
            (9, 12),
            (12, 12),
            (13, 16)
        ]
    );
    // A table's layout takes it; LPM and ternary keys keep rule 4.
    let mut b = ModuleBuilder::new();
    let b32 = b.bits(32);
    let c = b.control("c");
    let exact = b.table(c, "e").key("a", b32, "exact").build();
    let ternary = b.table(c, "t").key("a", b32, "ternary").build();
    let lpm = b.table(c, "l").key("a", b32, "lpm").build();
    let size = |t| table_key_layout(&b.module, t).unwrap().size;
    assert_eq!((size(exact), size(ternary), size(lpm)), (8, 4, 8));
}
