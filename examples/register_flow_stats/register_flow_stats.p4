// Registers: per-flow packet counts and last-seen timestamps, with random sampling to the control plane.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<32> FLOW_SLOTS = 32w4096;
const bit<32> HEAVY_HITTER_PACKETS = 32w1_000_000;

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

header ipv4_t {
    bit<4>  version;
    bit<4>  ihl;
    bit<6>  dscp;
    bit<2>  ecn;
    bit<16> totalLen;
    bit<16> identification;
    bit<3>  flags;
    bit<13> fragOffset;
    bit<8>  ttl;
    bit<8>  protocol;
    bit<16> hdrChecksum;
    @tc_type("ipv4") bit<32> srcAddr;
    @tc_type("ipv4") bit<32> dstAddr;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
}

struct flow_sample_t {
    bit<32> slot;
    bit<32> packets;
    @tc_type("ipv4") bit<32> srcAddr;
    @tc_type("ipv4") bit<32> dstAddr;
}

struct reg_meta_t {
    bit<32> slot;
    bit<32> packets;
}

parser RegParser(packet_in pkt,
                 out headers_t hdr,
                 inout reg_meta_t meta,
                 in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        transition accept;
    }
}

control RegControl(inout headers_t hdr,
                   inout reg_meta_t meta,
                   in pna_main_input_metadata_t istd,
                   inout pna_main_output_metadata_t ostd) {

    Register<bit<32>, bit<32>>(FLOW_SLOTS) packet_count;
    Register<bit<64>, bit<32>>(FLOW_SLOTS, 64w0) last_seen;
    Hash<bit<32>>(PNA_HashAlgorithm_t.CRC32) slot_hash;
    Random<bit<16>>(16w0, 16w1023) sampler;
    Digest<flow_sample_t>() samples;

    action forward(@tc_type("dev") PortId_t port) {
        send_to_port(port);
    }

    table routes {
        key = {
            hdr.ipv4.dstAddr : lpm @tc_type("ipv4");
        }
        actions = {
            forward;
            NoAction;
        }
        default_action = NoAction;
    }

    apply {
        if (!hdr.ipv4.isValid()) {
            return;
        }
        meta.slot = slot_hash.get_hash(32w0, { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, hdr.ipv4.protocol }, FLOW_SLOTS);

        meta.packets = packet_count.read(meta.slot);
        meta.packets = meta.packets |+| 1;
        packet_count.write(meta.slot, meta.packets);
        last_seen.write(meta.slot, (bit<64>)istd.timestamp);

        // Heavy hitters lose their priority marking.
        if (meta.packets > HEAVY_HITTER_PACKETS) {
            hdr.ipv4.dscp = 0;
        }

        // About one packet in 1024 is reported.
        if (sampler.read() == 0) {
            samples.pack({ meta.slot, meta.packets, hdr.ipv4.srcAddr, hdr.ipv4.dstAddr });
        }

        routes.apply();
    }
}

control RegDeparser(packet_out pkt,
                    inout headers_t hdr,
                    in reg_meta_t meta,
                    in pna_main_output_metadata_t ostd) {
    InternetChecksum() csum;

    apply {
        if (hdr.ipv4.isValid()) {
            csum.clear();
            csum.add({ hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
                       hdr.ipv4.totalLen, hdr.ipv4.identification,
                       hdr.ipv4.flags, hdr.ipv4.fragOffset,
                       hdr.ipv4.ttl, hdr.ipv4.protocol,
                       hdr.ipv4.srcAddr, hdr.ipv4.dstAddr });
            hdr.ipv4.hdrChecksum = csum.get();
        }
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
    }
}

PNA_NIC(RegParser(), RegControl(), RegDeparser()) main;
