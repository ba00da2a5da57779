//! Cases of group B (owned by helper F2).

use crate::case::Case;

/// Every case of this group.
pub fn all() -> Vec<Box<dyn Case>> {
    vec![]
}
