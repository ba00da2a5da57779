// Mistake: a control declaration (with a body) cannot have type parameters.
control C<T>(inout T data) {
    apply {}
}
