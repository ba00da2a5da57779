//! Errors of the object model: each names the object and says what is wrong, in words a
//! `p4tc ctl` user can act on. A failed operation changes nothing.

/// An object-model error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// No such table, action, extern instance, key field or parameter.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, named (`table ingress.nh_table`).
        what: String,
    },
    /// The entry is already there.
    #[error("entry already exists in table {table}")]
    Exists {
        /// The table's name.
        table: String,
    },
    /// The table holds `size` entries already.
    #[error("table {table} is full ({size} entries)")]
    Full {
        /// The table's name.
        table: String,
        /// Its size.
        size: u32,
    },
    /// The permissions (or constness) forbid it: P4TC's EPERM.
    #[error("permission denied: {reason}")]
    Permission {
        /// Why, naming the object (`table ingress.nh_table has no control-plane create permission`).
        reason: String,
    },
    /// A value, key or action that does not fit the table's definition.
    #[error("{0}")]
    Invalid(String),
}
