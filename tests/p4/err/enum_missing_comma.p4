// Mistake: two enum members without a `,` between them.
enum Color {
    Red,
    Green
    Blue
}
