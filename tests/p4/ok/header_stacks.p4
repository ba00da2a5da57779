// Header stacks: next/last/lastIndex in the parser; size, push_front, pop_front, indexing and for-in in controls; stack values.
#include <core.p4>

const bit<32> SEGMENTS = 5;

header route_h {
    bit<8>  segments_left;
    bit<8>  count;
    bit<16> reserved;
}

header segment_h {
    bit<1>  last;
    bit<7>  flags;
    bit<24> node;
}

struct headers {
    route_h             route;
    segment_h[SEGMENTS] segments;
}

struct route_meta {
    bit<32> parsed;
    bit<24> final_node;
}

parser SegmentParser(packet_in pkt, out headers hdr, inout route_meta meta) {
    state start {
        pkt.extract(hdr.route);
        meta.parsed = 0;
        transition select(hdr.route.count) {
            0: accept;
            default: parse_segment;
        }
    }

    state parse_segment {
        pkt.extract(hdr.segments.next);
        meta.parsed = hdr.segments.lastIndex + 1;
        transition select(hdr.segments.last.last) {
            1w1: done;
            1w0: parse_segment;
        }
    }

    state done {
        meta.final_node = hdr.segments.last.node;
        transition accept;
    }
}

control SegmentControl(inout headers hdr, inout route_meta meta) {
    action advance_segment() {
        hdr.segments.pop_front(1);
        hdr.route.segments_left = hdr.route.segments_left - 1;
    }

    action insert_segment(bit<24> node) {
        hdr.segments.push_front(1);
        hdr.segments[0].setValid();
        hdr.segments[0] = { 0, 0, node };
        hdr.route.count = hdr.route.count + 1;
    }

    apply {
        if (!hdr.route.isValid()) {
            return;
        }
        if (hdr.route.segments_left > 0) {
            advance_segment();
        } else if (meta.parsed < hdr.segments.size) {
            insert_segment(meta.final_node);
        }

        // Stacks are values: copies, comparisons and tuple-built stacks.
        segment_h[SEGMENTS] before = hdr.segments;
        hdr.segments.push_front(2);
        hdr.segments.pop_front(2);
        if (before != hdr.segments) {
            hdr.route.reserved = 16w0xFFFF;
        }
        segment_h[2] pair = { hdr.segments[0], hdr.segments[1] };
        hdr.segments[SEGMENTS - 1] = pair[1];

        // Iterating over the elements of a stack.
        bit<8> valid_segments = 0;
        for (segment_h s in hdr.segments) {
            if (s.isValid()) {
                valid_segments = valid_segments + 1;
            }
        }
        hdr.route.count = valid_segments;

        // A run-time index.
        bit<3> i = (bit<3>)hdr.route.segments_left;
        if ((bit<32>)i < hdr.segments.size && hdr.segments[i].isValid()) {
            hdr.segments[i].flags = 7w0x7F;
        }
    }
}

control SegmentDeparser(packet_out pkt, in headers hdr) {
    apply {
        pkt.emit(hdr.route);
        pkt.emit(hdr.segments);
    }
}

parser SegP(packet_in pkt, out headers hdr, inout route_meta meta);
control SegC(inout headers hdr, inout route_meta meta);
control SegD(packet_out pkt, in headers hdr);
package SegmentPipeline(SegP p, SegC c, SegD d);

SegmentPipeline(SegmentParser(), SegmentControl(), SegmentDeparser()) main;
