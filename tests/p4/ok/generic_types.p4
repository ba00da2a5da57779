// Generic structs, headers and header unions, their specializations, and generic functions over them.
#include <core.p4>

struct Pair<T> {
    T first;
    T second;
}

struct Tagged<T, U> {
    T        tag;
    U        value;
    Pair<U>  history;
}

header Option<T> {
    bit<8> kind;
    T      payload;
}

header_union AnyOption<T> {
    Option<bit<8>>  short_form;
    Option<bit<32>> long_form;
    Option<T>       custom;
}

typedef Pair<bit<16>> PortPair_t;
typedef Option<bit<16>>[3] OptionStack_t;

// A generic function whose return type is a specialization of its own type parameter.
Pair<T> make_pair<T>(in T first, in T second) {
    return { first = first, second = second };
}

// A generic function whose return type is the type parameter itself.
T choose<T>(in bool take_first, in T first, in T second) {
    if (take_first) {
        return first;
    }
    return second;
}

void swap_pair<T>(inout Pair<T> p) {
    T tmp = p.first;
    p.first = p.second;
    p.second = tmp;
}

control GenericUse(inout PortPair_t ports, inout AnyOption<bit<16>> opt, inout Tagged<bool, bit<8>> tagged);
package GenericProgram(GenericUse g);

control UseGenerics(inout PortPair_t ports, inout AnyOption<bit<16>> opt, inout Tagged<bool, bit<8>> tagged) {
    apply {
        Pair<bit<16>> copy = make_pair(ports.second, ports.first);
        Pair<bit<8>> explicit_pair = make_pair<bit<8>>(8w1, 8w2);
        swap_pair(copy);
        swap_pair<bit<8>>(explicit_pair);

        OptionStack_t options;
        options[0] = { kind = 1, payload = copy.first };
        options[1].setValid();
        options[1].kind = 2;
        options[1].payload = choose(tagged.tag, copy.second, 16w0);

        if (opt.custom.isValid()) {
            opt.custom.payload = options[0].payload;
        } else if (opt.short_form.isValid()) {
            opt.long_form = { kind = opt.short_form.kind, payload = (bit<32>)opt.short_form.payload };
        }

        tagged.value = choose<bit<8>>(tagged.tag, explicit_pair.first, explicit_pair.second);
        tagged.history = make_pair(tagged.value, tagged.history.first);
        ports = copy;
    }
}

GenericProgram(UseGenerics()) main;
