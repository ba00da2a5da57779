//! Every example measured against its hand-written twin.

use crate::case::Case;

pub mod group_a;
pub mod group_b;
mod helpers;
pub mod simple_l3;

/// Every case: simple_l3 first, then groups A and B.
pub fn all() -> Vec<Box<dyn Case>> {
    let mut v: Vec<Box<dyn Case>> = vec![Box::new(simple_l3::SimpleL3)];
    v.extend(group_a::all());
    v.extend(group_b::all());
    v
}
