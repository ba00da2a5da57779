// IPv4 options: the option bytes are extracted into a varbit sized from IHL and filtered by policy.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const int     IPV4_MIN_IHL = 5;
const int     MAX_OPTION_BYTES = 40;

error {
    IPv4HeaderTooShort,
    IPv4OptionsTooLong
}

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

header ipv4_t {
    bit<4>  version;
    bit<4>  ihl;
    bit<8>  diffserv;
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

// All the options as one opaque run of 0 to 40 bytes.
header ipv4_options_t {
    varbit<(MAX_OPTION_BYTES * 8)> options;
}

// The first option's type byte, peeked at before extracting the rest.
header ipv4_option_type_t {
    bit<1> copied;
    bit<2> opt_class;
    bit<5> number;
}

struct headers_t {
    ethernet_t     ethernet;
    ipv4_t         ipv4;
    ipv4_options_t ipv4_options;
}

struct opt_meta_t {
    bit<5> first_option;
    bool   has_options;
    bool   stripped;
}

parser OptParser(packet_in pkt,
                 out headers_t hdr,
                 inout opt_meta_t meta,
                 in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.first_option = 0;
        meta.has_options = false;
        meta.stripped = false;
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        verify(hdr.ipv4.ihl >= IPV4_MIN_IHL, error.IPv4HeaderTooShort);
        transition select(hdr.ipv4.ihl) {
            IPV4_MIN_IHL: accept;
            6..15: parse_options;
        }
    }

    state parse_options {
        meta.first_option = pkt.lookahead<ipv4_option_type_t>().number;
        meta.has_options = true;
        bit<32> option_bits = ((bit<32>)hdr.ipv4.ihl - IPV4_MIN_IHL) << 5;
        verify(option_bits <= (bit<32>)hdr.ipv4_options.options.maxSizeInBits(), error.IPv4OptionsTooLong);
        pkt.extract(hdr.ipv4_options, option_bits);
        transition accept;
    }
}

control OptControl(inout headers_t hdr,
                   inout opt_meta_t meta,
                   in pna_main_input_metadata_t istd,
                   inout pna_main_output_metadata_t ostd) {

    action allow(@tc_type("dev") PortId_t port) {
        send_to_port(port);
    }

    action strip_and_allow(@tc_type("dev") PortId_t port) {
        // Dropping the options shortens both the header and the packet.
        bit<16> option_bytes = (bit<16>)(hdr.ipv4.ihl - IPV4_MIN_IHL) << 2;
        hdr.ipv4_options.setInvalid();
        hdr.ipv4.ihl = IPV4_MIN_IHL;
        hdr.ipv4.totalLen = hdr.ipv4.totalLen - option_bytes;
        meta.stripped = true;
        send_to_port(port);
    }

    action reject_options() {
        drop_packet();
    }

    // Keyed on the first option number: record-route, timestamp, router alert, ...
    table option_policy {
        key = {
            meta.first_option : exact @name("option");
        }
        actions = {
            allow;
            strip_and_allow;
            reject_options;
        }
        const default_action = reject_options;
    }

    action plain(@tc_type("dev") PortId_t port) {
        send_to_port(port);
    }

    table plain_forward {
        key = {
            hdr.ipv4.dstAddr : lpm @tc_type("ipv4");
        }
        actions = {
            plain;
            NoAction;
        }
    }

    apply {
        if (!hdr.ipv4.isValid()) {
            return;
        }
        if (meta.has_options) {
            option_policy.apply();
        } else {
            plain_forward.apply();
        }
    }
}

control OptDeparser(packet_out pkt,
                    inout headers_t hdr,
                    in opt_meta_t meta,
                    in pna_main_output_metadata_t ostd) {
    InternetChecksum() csum;

    apply {
        if (meta.stripped) {
            csum.clear();
            csum.add({ hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.diffserv,
                       hdr.ipv4.totalLen, hdr.ipv4.identification,
                       hdr.ipv4.flags, hdr.ipv4.fragOffset,
                       hdr.ipv4.ttl, hdr.ipv4.protocol,
                       hdr.ipv4.srcAddr, hdr.ipv4.dstAddr });
            hdr.ipv4.hdrChecksum = csum.get();
        }
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
        pkt.emit(hdr.ipv4_options);
    }
}

PNA_NIC(OptParser(), OptControl(), OptDeparser()) main;
