// Calculator protocol on a local experimental EtherType: the NIC evaluates a signed operation and replies.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_CALC = 0x88B5;
const bit<16> CALC_MAGIC = 0x4341;
const bit<8>  CALC_VERSION = 0x01;

enum bit<8> calc_op_t {
    ADD     = 0x2B,
    SUB     = 0x2D,
    AND     = 0x26,
    OR      = 0x7C,
    XOR     = 0x5E,
    SAT_ADD = 0x70,
    SAT_SUB = 0x6D,
    SHL     = 0x3C,
    SHR     = 0x3E
}

enum bit<8> calc_status_t {
    OK          = 0,
    UNSUPPORTED = 1
}

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

header calc_t {
    bit<16>       magic;
    bit<8>        version;
    calc_op_t     op;
    int<32>       a;
    int<32>       b;
    int<32>       result;
    calc_status_t status;
    bit<8>        reserved;
}

struct headers_t {
    ethernet_t ethernet;
    calc_t     calc;
}

struct calc_meta_t {
}

parser CalcParser(packet_in pkt,
                  out headers_t hdr,
                  inout calc_meta_t meta,
                  in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_CALC: check_calc;
            default: accept;
        }
    }

    // Only take packets whose first three bytes carry our magic and version.
    state check_calc {
        transition select(pkt.lookahead<bit<24>>()) {
            CALC_MAGIC ++ CALC_VERSION: parse_calc;
            default: accept;
        }
    }

    state parse_calc {
        pkt.extract(hdr.calc);
        transition accept;
    }
}

control CalcControl(inout headers_t hdr,
                    inout calc_meta_t meta,
                    in pna_main_input_metadata_t istd,
                    inout pna_main_output_metadata_t ostd) {

    action send_back() {
        bit<48> requester = hdr.ethernet.srcAddr;
        hdr.ethernet.srcAddr = hdr.ethernet.dstAddr;
        hdr.ethernet.dstAddr = requester;
        send_to_port(istd.input_port);
    }

    action do_add()     { hdr.calc.result = hdr.calc.a + hdr.calc.b;   send_back(); }
    action do_sub()     { hdr.calc.result = hdr.calc.a - hdr.calc.b;   send_back(); }
    action do_and()     { hdr.calc.result = hdr.calc.a & hdr.calc.b;   send_back(); }
    action do_or()      { hdr.calc.result = hdr.calc.a | hdr.calc.b;   send_back(); }
    action do_xor()     { hdr.calc.result = hdr.calc.a ^ hdr.calc.b;   send_back(); }
    action do_sat_add() { hdr.calc.result = hdr.calc.a |+| hdr.calc.b; send_back(); }
    action do_sat_sub() { hdr.calc.result = hdr.calc.a |-| hdr.calc.b; send_back(); }

    action do_shift(bool left) {
        // Only the low five bits of b count as the shift amount.
        bit<5> amount = hdr.calc.b[4:0];
        if (left) {
            hdr.calc.result = hdr.calc.a << amount;
        } else {
            hdr.calc.result = hdr.calc.a >> amount;
        }
        send_back();
    }

    action unsupported() {
        hdr.calc.status = calc_status_t.UNSUPPORTED;
        hdr.calc.result = 0;
        send_back();
    }

    table calculate {
        key = {
            hdr.calc.op : exact @name("op");
        }
        actions = {
            do_add;
            do_sub;
            do_and;
            do_or;
            do_xor;
            do_sat_add;
            do_sat_sub;
            do_shift;
            unsupported;
        }
        const default_action = unsupported();
        const entries = {
            calc_op_t.ADD     : do_add();
            calc_op_t.SUB     : do_sub();
            calc_op_t.AND     : do_and();
            calc_op_t.OR      : do_or();
            calc_op_t.XOR     : do_xor();
            calc_op_t.SAT_ADD : do_sat_add();
            calc_op_t.SAT_SUB : do_sat_sub();
            calc_op_t.SHL     : do_shift(true);
            calc_op_t.SHR     : do_shift(false);
        }
    }

    apply {
        if (!hdr.calc.isValid()) {
            drop_packet();
            exit;
        }
        switch (calculate.apply().action_run) {
            unsupported: {
            }
            default: {
                hdr.calc.status = calc_status_t.OK;
            }
        }
    }
}

control CalcDeparser(packet_out pkt,
                     inout headers_t hdr,
                     in calc_meta_t meta,
                     in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.calc);
    }
}

PNA_NIC(CalcParser(), CalcControl(), CalcDeparser()) main;
