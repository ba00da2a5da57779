// Mistake: a table declared at top level instead of inside a control.
action drop() {}

table t {
    actions = { drop; }
    default_action = drop();
}
