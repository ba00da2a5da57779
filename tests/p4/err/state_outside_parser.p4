// Mistake: a parser state declared at top level instead of inside a parser.
state start {
    transition accept;
}
