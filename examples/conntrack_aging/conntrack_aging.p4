// TCP connection tracking: add_entry_if on SYN, pna_idle_timeout AUTO_DELETE and per-entry expire profiles.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<8>  IPPROTO_TCP = 6;

const bit<8> TCP_FIN = 8w0b0000_0001;
const bit<8> TCP_SYN = 8w0b0000_0010;
const bit<8> TCP_RST = 8w0b0000_0100;
const bit<8> TCP_ACK = 8w0b0001_0000;

const ExpireTimeProfileId_t PROFILE_SYN_SENT    = (ExpireTimeProfileId_t)0;
const ExpireTimeProfileId_t PROFILE_CLOSING     = (ExpireTimeProfileId_t)1;
const ExpireTimeProfileId_t PROFILE_ESTABLISHED = (ExpireTimeProfileId_t)2;

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

header tcp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<32> seqNo;
    bit<32> ackNo;
    bit<4>  dataOffset;
    bit<4>  res;
    bit<8>  flags;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgentPtr;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
    tcp_t      tcp;
}

struct ct_meta_t {
    bool                  syn;
    bool                  ack;
    bool                  fin_or_rst;
    bool                  update_aging;
    bool                  update_expire;
    ExpireTimeProfileId_t profile;
    FlowId_t              flow_id;
}

struct tcp_flow_params_t {
    FlowId_t flow_id;
}

parser CtParser(packet_in pkt,
                out headers_t hdr,
                inout ct_meta_t meta,
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
        transition select(hdr.ipv4.protocol) {
            IPPROTO_TCP: parse_tcp;
            default: accept;
        }
    }

    state parse_tcp {
        pkt.extract(hdr.tcp);
        transition accept;
    }
}

control CtControl(inout headers_t hdr,
                  inout ct_meta_t meta,
                  in pna_main_input_metadata_t istd,
                  inout pna_main_output_metadata_t ostd) {

    action tcp_flow(FlowId_t flow_id) {
        meta.flow_id = flow_id;
        set_entry_expire_time_if(meta.fin_or_rst, PROFILE_CLOSING);
        update_expire_info(meta.update_aging, meta.update_expire, meta.profile);
    }

    action flow_miss() {
        // Only an opening SYN creates an entry; the new entry starts on the short profile.
        add_entry_if(meta.syn && !meta.ack,
                     "tcp_flow",
                     (tcp_flow_params_t){ flow_id = allocate_flow_id() },
                     PROFILE_SYN_SENT);
    }

    // The datapath needs U (update) as well as C: set_entry_expire_time moves its own
    // entries between timer profiles, and P4TC refuses that without the datapath's U bit.
    @tc_acl("CRUS:CRUXP")
    table flows {
        key = {
            hdr.ipv4.srcAddr : exact @tc_type("ipv4");
            hdr.ipv4.dstAddr : exact @tc_type("ipv4");
            hdr.tcp.srcPort  : exact @tc_type("be16");
            hdr.tcp.dstPort  : exact @tc_type("be16");
        }
        actions = {
            @tableonly tcp_flow;
            @defaultonly flow_miss;
        }
        const default_action = flow_miss;
        add_on_miss = true;
        pna_idle_timeout = PNA_IdleTimeout_t.AUTO_DELETE;
        size = 1 << 16;
    }

    action forward(@tc_type("dev") PortId_t port) {
        send_to_port(port);
        restart_expire_timer();
    }

    // Static port pairing; the control plane is told about pairs that carry no traffic.
    table port_pairs {
        key = {
            istd.input_port : exact @tc_type("dev");
        }
        actions = {
            forward;
        }
        pna_idle_timeout = PNA_IdleTimeout_t.NOTIFY_CONTROL;
    }

    apply {
        if (!hdr.tcp.isValid()) {
            port_pairs.apply();
            return;
        }
        meta.syn = (hdr.tcp.flags & TCP_SYN) != 0;
        meta.ack = (hdr.tcp.flags & TCP_ACK) != 0;
        meta.fin_or_rst = (hdr.tcp.flags & (TCP_FIN | TCP_RST)) != 0;
        meta.update_aging = true;
        meta.update_expire = meta.ack && !meta.syn && !meta.fin_or_rst;
        meta.profile = meta.fin_or_rst ? PROFILE_CLOSING : PROFILE_ESTABLISHED;

        if (flows.apply().hit || meta.syn) {
            port_pairs.apply();
        } else {
            drop_packet();
        }
    }
}

control CtDeparser(packet_out pkt,
                   inout headers_t hdr,
                   in ct_meta_t meta,
                   in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
        pkt.emit(hdr.tcp);
    }
}

PNA_NIC(CtParser(), CtControl(), CtDeparser()) main;
