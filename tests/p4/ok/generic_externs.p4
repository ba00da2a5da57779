// Extern objects and functions: overloaded constructors, generic and abstract methods, initializer blocks with `this`.
#include <core.p4>

// A table of values the target keeps; the constructor is overloaded on arity.
extern ValueStore<V, I> {
    ValueStore(bit<32> size);
    ValueStore(bit<32> size, V initial);
    V get(in I index);
    void put(in I index, in V value);
    // A generic method: the target hashes any data into an index.
    I locate<D>(in D data);
}

// The target calls on_overflow when a bucket fills up; the program says what to do.
extern Bucketizer<T> {
    Bucketizer(T limit);
    T fill_level();
    void reset();
    abstract bool on_overflow(in T level);
}

// A constructor taking a list, and a match_kind, both compile-time values.
extern Classifier {
    Classifier(list<bit<16>> well_known, match_kind kind);
    bool is_well_known(in bit<16> port);
}

// Records data of any type and returns a summary of type R; with R = void, nothing.
extern Tracer<R> {
    Tracer(string label);
    R record<D>(in D data);
}

extern void log_value<T>(string label, in T value);
extern O fold<O, I>(in I data);
extern bit<16> checksum16<T>(in T data, @optional in bit<16> seed);
extern void split<T>(in T value, out T high, out T low);
extern bool in_range(in bit<32> value, in bit<32> low = 0, in bit<32> high = 32w0xFFFF_FFFF);

const bit<32> BUCKET_LIMIT = 1500;

control ExternUse(inout bit<32> value, inout bit<16> port, out bool flagged);
package ExternProgram(ExternUse e);

control UseExterns(inout bit<32> value, inout bit<16> port, out bool flagged) {
    ValueStore<bit<32>, bit<8>>(256) plain_store;
    ValueStore<bit<64>, bit<8>>(256, 64w0) initialised_store;

    @name("overflow_bucket")
    Bucketizer<bit<32>>(BUCKET_LIMIT) bucket = {
        // An instance that belongs to the initializer block.
        ValueStore<bit<32>, bit<8>>(8) overflow_log;

        bool on_overflow(in bit<32> level) {
            // Abstract method bodies see their arguments, their block, top-level names and `this`.
            overflow_log.put(8w0, level);
            this.reset();
            return level > BUCKET_LIMIT || this.fill_level() == 0;
        }
    };

    Bucketizer<bit<16>>(16w64) small_bucket = {
        bool on_overflow(in bit<16> level) {
            return level[0:0] == 1;
        }
    };

    Classifier((list<bit<16>>){ 22, 53, 80, 443 }, exact) services;
    Tracer<void>("values") tracer;
    Tracer<bit<8>>("ports") port_tracer;

    apply {
        bit<8> slot = plain_store.locate(value);
        bit<8> typed_slot = plain_store.locate<tuple<bit<32>, bit<16>>>({ value, port });
        plain_store.put(slot, plain_store.get(typed_slot) + 1);
        initialised_store.put(index = slot, value = initialised_store.get(slot) |+| 1);

        flagged = bucket.on_overflow(bucket.fill_level()) || services.is_well_known(port)
                  || small_bucket.fill_level() > 16w60;

        log_value("value", value);
        log_value<bit<16>>(label = "port", value = port);
        log_value<_>("inferred", slot);
        bit<8> folded = fold<bit<8>, bit<32>>(value) ^ fold<bit<8>, _>(port);
        tracer.record(value);
        bit<8> seen = port_tracer.record<bit<16>>(port);

        port = checksum16(value) ^ checksum16(data = value, seed = 16w0x1234) ^ checksum16<_>(port);

        bit<16> high;
        split<bit<16>>(port, high, _);
        split(value = port, high = _, low = port);

        if (in_range(value) && in_range(value = value, high = 32w0xFFFF) && in_range(value, 1, 10)) {
            value = value + (bit<32>)high + (bit<32>)seen + (bit<32>)folded;
        }
    }
}

ExternProgram(UseExterns()) main;
