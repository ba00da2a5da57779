//! Priorities of entries written in the program, as the P4 spec assigns them: explicit ones in
//! the table's `largest_priority_wins` convention, missing ones from `priority_delta`, and in
//! order (the first entry wins) when none is written.

mod support;

use p4tc_runtime::{Datapath, PipelineModel};
use support::{backend, key, program, table};

/// The action datum of the entry a lookup of `value` finds.
fn winner(model: &std::sync::Arc<PipelineModel>, value: u128) -> Option<u128> {
    let (mut b, _clock) = backend(model);
    let t = table(model, "acl");
    let blob = key(model, "acl", &[value]);
    let found = b.lookup(t, &blob);
    found.entry?;
    let bytes = found.params;
    Some(
        bytes
            .iter()
            .take(2)
            .fold(0u128, |acc, b| (acc << 8) | u128::from(*b)),
    )
}

fn acl(properties: &str, entries: &str) -> std::sync::Arc<PipelineModel> {
    program(
        &format!(
            r#"
    action set(bit<16> v) {{ meta.b = v; }}
    table acl {{
        key = {{ hdr.ip.src : ternary; }}
        actions = {{ set; }}
        {properties}
        const entries = {{
{entries}
        }}
    }}
"#
        ),
        "        acl.apply();",
    )
}

#[test]
fn without_priorities_the_first_matching_entry_wins() {
    let model = acl(
        "",
        "            32w0x0a000000 &&& 32w0xff000000 : set(1);\n            32w0x0a010000 &&& 32w0xffff0000 : set(2);",
    );
    assert_eq!(winner(&model, 0x0a01_0203), Some(1));
    assert_eq!(winner(&model, 0x0b00_0000), None);
}

#[test]
fn explicit_priorities_larger_wins_by_default() {
    let model = acl(
        "",
        "            priority = 10 : 32w0x0a000000 &&& 32w0xff000000 : set(1);\n            priority = 100 : 32w0x0a010000 &&& 32w0xffff0000 : set(2);",
    );
    assert_eq!(winner(&model, 0x0a01_0203), Some(2));
    assert_eq!(winner(&model, 0x0a02_0000), Some(1));
}

#[test]
fn smallest_priority_wins_when_the_table_says_so() {
    let model = acl(
        "largest_priority_wins = false;",
        "            priority = 10 : 32w0x0a000000 &&& 32w0xff000000 : set(1);\n            priority = 100 : 32w0x0a010000 &&& 32w0xffff0000 : set(2);",
    );
    assert_eq!(winner(&model, 0x0a01_0203), Some(1));
}

#[test]
fn a_missing_priority_follows_the_previous_entry_by_the_delta() {
    // 10, then 10 - 1 = 9 for the second: the first still wins where both match; the third
    // (priority 50) beats both.
    let model = acl(
        "",
        "            priority = 10 : 32w0x0a000000 &&& 32w0xff000000 : set(1);\n            32w0x0a010000 &&& 32w0xffff0000 : set(2);\n            priority = 50 : 32w0x0a010200 &&& 32w0xffffff00 : set(3);",
    );
    assert_eq!(winner(&model, 0x0a01_0003), Some(1));
    assert_eq!(winner(&model, 0x0a01_0203), Some(3));
}
