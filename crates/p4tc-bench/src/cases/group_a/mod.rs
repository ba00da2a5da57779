//! Cases of group A (owned by helper F1).

use crate::case::Case;

/// Every case of this group.
pub fn all() -> Vec<Box<dyn Case>> {
    vec![]
}
