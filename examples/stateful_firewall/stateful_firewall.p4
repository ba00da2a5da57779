// Stateful firewall: host-initiated flows are learned by the datapath (add_on_miss + add_entry) and age out.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<8>  IPPROTO_TCP = 6;
const bit<8>  IPPROTO_UDP = 17;

const bit<8> TCP_FLAG_FIN = 0x01;
const bit<8> TCP_FLAG_SYN = 0x02;
const bit<8> TCP_FLAG_RST = 0x04;
const bit<8> TCP_FLAG_ACK = 0x10;

// How many flows conntrack holds; set at compile time (`p4tc load ... -D CONNTRACK_SIZE=1024`).
// When it is full, a new flow's add_entry fails and its packets are not routed.
#ifndef CONNTRACK_SIZE
#define CONNTRACK_SIZE 65536
#endif

// Expire time profiles; the control plane sets how long each one lasts.
const ExpireTimeProfileId_t PROFILE_NEW         = (ExpireTimeProfileId_t)0;
const ExpireTimeProfileId_t PROFILE_CLOSING     = (ExpireTimeProfileId_t)1;
const ExpireTimeProfileId_t PROFILE_ESTABLISHED = (ExpireTimeProfileId_t)3;

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

header udp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<16> length;
    bit<16> checksum;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
    tcp_t      tcp;
    udp_t      udp;
}

struct fw_meta_t {
    bool                  from_host;
    bool                  blocked;
    bit<16>               sport;
    bit<16>               dport;
    bit<32>               zone;
    AddEntryErrorStatus_t add_status;
}

// The parameters of the hit action that ct_miss adds, field for field.
struct allow_params_t {
    bit<32> zone;
}

parser FwParser(packet_in pkt,
                out headers_t hdr,
                inout fw_meta_t meta,
                in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.from_host = is_host_port(istd.input_port);
        meta.blocked = false;
        meta.sport = 0;
        meta.dport = 0;
        meta.zone = 0;
        meta.add_status = ADD_ENTRY_SUCCESS;
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
            IPPROTO_UDP: parse_udp;
            default: accept;
        }
    }

    state parse_tcp {
        pkt.extract(hdr.tcp);
        meta.sport = hdr.tcp.srcPort;
        meta.dport = hdr.tcp.dstPort;
        transition accept;
    }

    state parse_udp {
        pkt.extract(hdr.udp);
        meta.sport = hdr.udp.srcPort;
        meta.dport = hdr.udp.dstPort;
        transition accept;
    }
}

control FwControl(inout headers_t hdr,
                  inout fw_meta_t meta,
                  in pna_main_input_metadata_t istd,
                  inout pna_main_output_metadata_t ostd) {

    action set_zone(bit<32> zone) {
        meta.zone = zone;
    }

    table zone_of_port {
        key = {
            istd.input_port : exact @tc_type("dev") @name("port");
        }
        actions = {
            set_zone;
        }
        default_action = set_zone(0);
    }

    // Hit action of conntrack entries; a closing TCP flow moves to the short profile.
    action allow_established(bit<32> zone) {
        meta.zone = zone;
        if (hdr.tcp.isValid() && (hdr.tcp.flags & (TCP_FLAG_FIN | TCP_FLAG_RST)) != 0) {
            set_entry_expire_time(PROFILE_CLOSING);
        } else {
            set_entry_expire_time(PROFILE_ESTABLISHED);
        }
    }

    // Miss action: a flow opened from the host side is learned; anything else is dropped.
    action ct_miss() {
        if (meta.from_host) {
            meta.add_status = add_entry(action_name = "allow_established",
                                        action_params = (allow_params_t){ zone = meta.zone },
                                        expire_time_profile_id = PROFILE_NEW);
        } else {
            meta.blocked = true;
            drop_packet();
        }
    }

    // The datapath needs U (update) as well as C: set_entry_expire_time moves its own
    // entries between timer profiles, and P4TC refuses that without the datapath's U bit.
    @tc_acl("CRUDPS:CRUXP")
    table conntrack {
        key = {
            SelectByDirection(is_net_port(istd.input_port), hdr.ipv4.dstAddr, hdr.ipv4.srcAddr)
                : exact @tc_type("ipv4") @name("host_addr");
            SelectByDirection(is_net_port(istd.input_port), hdr.ipv4.srcAddr, hdr.ipv4.dstAddr)
                : exact @tc_type("ipv4") @name("peer_addr");
            hdr.ipv4.protocol : exact @name("proto");
            SelectByDirection(is_net_port(istd.input_port), meta.dport, meta.sport)
                : exact @tc_type("be16") @name("host_port");
            SelectByDirection(is_net_port(istd.input_port), meta.sport, meta.dport)
                : exact @tc_type("be16") @name("peer_port");
        }
        actions = {
            @tableonly allow_established;
            @defaultonly ct_miss;
        }
        const default_action = ct_miss;
        add_on_miss = true;
        idle_timeout_with_auto_delete = true;
        default_idle_timeout_for_data_plane_added_entries = 1;
        size = CONNTRACK_SIZE;
    }

    action forward(@tc_type("dev") PortId_t port) {
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    table routes {
        key = {
            hdr.ipv4.dstAddr : lpm @tc_type("ipv4") @name("dst");
        }
        actions = {
            forward;
            drop;
        }
        const default_action = drop;
    }

    apply {
        if (!hdr.ipv4.isValid()) {
            drop();
            return;
        }
        zone_of_port.apply();
        if (hdr.tcp.isValid() && !meta.from_host && (hdr.tcp.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN) {
            // A bare SYN from the network is an unsolicited connection attempt: it never reaches the table.
            drop();
            return;
        }
        conntrack.apply();
        if (meta.blocked || meta.add_status != ADD_ENTRY_SUCCESS) {
            return;
        }
        routes.apply();
    }
}

control FwDeparser(packet_out pkt,
                   inout headers_t hdr,
                   in fw_meta_t meta,
                   in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
        pkt.emit(hdr.tcp);
        pkt.emit(hdr.udp);
    }
}

PNA_NIC(FwParser(), FwControl(), FwDeparser()) main;
