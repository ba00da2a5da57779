/*
 * pna.p4 -- the Portable NIC Architecture (PNA), as shipped inside p4tc.
 *
 * This file is p4tc's own, written from the PNA specification and from the
 * declarations that PNA programs compile against when they say
 * `#include <pna.p4>`: the four-block form with a pre-control
 * (`PNA_NIC(parser, pre_control, control, deparser)`) and a packet
 * direction in the intrinsic metadata. A few later PNA additions that
 * cannot clash with such programs are declared as well (is_net_port,
 * is_host_port, update_expire_info, set_entry_expire_time_if, the full
 * hash algorithm list, the AUTO_DELETE idle timeout).
 *
 * P4TC programs use <tc/pna.p4> instead, which is a different dialect
 * (three blocks, no direction field, TC annotations); see
 * docs/architectures.md. The two files share one guard, so whichever of
 * them is included first is the architecture of the program and the other
 * becomes a no-op.
 */

#ifndef _P4TC_PNA_ARCH_
#define _P4TC_PNA_ARCH_
#define _P4TC_PNA_P4_

#include <core.p4>

/*
 * ---------------------------------------------------------------------
 * Numeric types.
 *
 * Each PNA quantity comes twice: `<Name>Uint_t` is a plain typedef of
 * bit<W> (free to mix in arithmetic), and `<Name>_t` is a distinct `type`
 * over it, so that the control-plane API can recognise and translate it.
 * Converting between the two takes an explicit cast. The widths are the
 * usual placeholder widths; a target may pick its own.
 * ---------------------------------------------------------------------
 */

// Ports and interfaces.
typedef bit<32> PortIdUint_t;
@p4runtime_translation("p4.org/pna/v1/PortId_t", 32)
type PortIdUint_t PortId_t;

typedef bit<32> InterfaceIdUint_t;
@p4runtime_translation("p4.org/pna/v1/InterfaceId_t", 32)
type InterfaceIdUint_t InterfaceId_t;

// Replication: multicast groups and mirroring.
typedef bit<32> MulticastGroupUint_t;
@p4runtime_translation("p4.org/pna/v1/MulticastGroup_t", 32)
type MulticastGroupUint_t MulticastGroup_t;

typedef bit<16> MulticastInstanceUint_t;
@p4runtime_translation("p4.org/pna/v1/MulticastInstance_t", 16)
type MulticastInstanceUint_t MulticastInstance_t;

typedef bit<16> MirrorSessionIdUint_t;
@p4runtime_translation("p4.org/pna/v1/MirrorSessionId_t", 16)
type MirrorSessionIdUint_t MirrorSessionId_t;

typedef bit<8> MirrorSlotIdUint_t;
@p4runtime_translation("p4.org/pna/v1/MirrorSlotId_t", 8)
type MirrorSlotIdUint_t MirrorSlotId_t;

// Per-packet attributes.
typedef bit<8> ClassOfServiceUint_t;
@p4runtime_translation("p4.org/pna/v1/ClassOfService_t", 8)
type ClassOfServiceUint_t ClassOfService_t;

typedef bit<16> PacketLengthUint_t;
@p4runtime_translation("p4.org/pna/v1/PacketLength_t", 16)
type PacketLengthUint_t PacketLength_t;

typedef bit<64> TimestampUint_t;
@p4runtime_translation("p4.org/pna/v1/Timestamp_t", 64)
type TimestampUint_t Timestamp_t;

typedef bit<3> PassNumberUint_t;
@p4runtime_translation("p4.org/pna/v1/PassNumber_t", 8)
type PassNumberUint_t PassNumber_t;

// Flows, entry aging and security associations.
typedef bit<32> FlowIdUint_t;
@p4runtime_translation("p4.org/pna/v1/FlowId_t", 32)
type FlowIdUint_t FlowId_t;

typedef bit<8> ExpireTimeProfileIdUint_t;
@p4runtime_translation("p4.org/pna/v1/ExpireTimeProfileId_t", 8)
type ExpireTimeProfileIdUint_t ExpireTimeProfileId_t;

typedef bit<32> SecurityAssocIdUint_t;
@p4runtime_translation("p4.org/pna/v1/SecurityAssocId_t", 64)
type SecurityAssocIdUint_t SecurityAssocId_t;

// The parser's outcome, as the main control sees it.
typedef error ParserError_t;

// Well-known values: the interface that reaches the control-plane CPU,
// and the mirror session that copies packets to it.
const InterfaceId_t PNA_PORT_CPU = (InterfaceId_t) 32w0xfffffffd;
const MirrorSessionId_t PNA_MIRROR_SESSION_TO_CPU = (MirrorSessionId_t) 16w0;

/*
 * ---------------------------------------------------------------------
 * The same quantities as carried inside packet headers.
 *
 * `<Name>InHeader_t` is for header fields exchanged with the control
 * plane (e.g. to or from the CPU port). Its width is a whole number of
 * bytes and at least as large as any target's internal width, so one
 * header layout works everywhere. No translation happens automatically:
 * the pna_<Name>_int_to_header / pna_<Name>_header_to_int functions below
 * convert explicitly (type -> bits -> resized bits -> type).
 * ---------------------------------------------------------------------
 */

typedef bit<32> PortIdInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/PortIdInHeader_t", 32)
type PortIdInHeaderUint_t PortIdInHeader_t;

typedef bit<32> InterfaceIdInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/InterfaceIdInHeader_t", 32)
type InterfaceIdInHeaderUint_t InterfaceIdInHeader_t;

typedef bit<32> MulticastGroupInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/MulticastGroupInHeader_t", 32)
type MulticastGroupInHeaderUint_t MulticastGroupInHeader_t;

typedef bit<16> MulticastInstanceInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/MulticastInstanceInHeader_t", 16)
type MulticastInstanceInHeaderUint_t MulticastInstanceInHeader_t;

typedef bit<16> MirrorSessionIdInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/MirrorSessionIdInHeader_t", 16)
type MirrorSessionIdInHeaderUint_t MirrorSessionIdInHeader_t;

typedef bit<8> MirrorSlotIdInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/MirrorSlotIdInHeader_t", 8)
type MirrorSlotIdInHeaderUint_t MirrorSlotIdInHeader_t;

typedef bit<8> ClassOfServiceInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/ClassOfServiceInHeader_t", 8)
type ClassOfServiceInHeaderUint_t ClassOfServiceInHeader_t;

typedef bit<16> PacketLengthInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/PacketLengthInHeader_t", 16)
type PacketLengthInHeaderUint_t PacketLengthInHeader_t;

typedef bit<64> TimestampInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/TimestampInHeader_t", 64)
type TimestampInHeaderUint_t TimestampInHeader_t;

typedef bit<8> PassNumberInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/PassNumberInHeader_t", 8)
type PassNumberInHeaderUint_t PassNumberInHeader_t;

typedef bit<32> FlowIdInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/FlowIdInHeader_t", 32)
type FlowIdInHeaderUint_t FlowIdInHeader_t;

typedef bit<8> ExpireTimeProfileIdInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/ExpireTimeProfileIdInHeader_t", 8)
type ExpireTimeProfileIdInHeaderUint_t ExpireTimeProfileIdInHeader_t;

typedef bit<32> SecurityAssocIdInHeaderUint_t;
@p4runtime_translation("p4.org/pna/v1/SecurityAssocIdInHeader_t", 64)
type SecurityAssocIdInHeaderUint_t SecurityAssocIdInHeader_t;

// Conversions, one pair per quantity: internal value -> header field,
// and header field -> internal value.

PortIdInHeader_t pna_PortId_int_to_header(in PortId_t x) {
    return (PortIdInHeader_t) (PortIdInHeaderUint_t) (PortIdUint_t) x;
}
PortId_t pna_PortId_header_to_int(in PortIdInHeader_t x) {
    return (PortId_t) (PortIdUint_t) (PortIdInHeaderUint_t) x;
}

InterfaceIdInHeader_t pna_InterfaceId_int_to_header(in InterfaceId_t x) {
    return (InterfaceIdInHeader_t) (InterfaceIdInHeaderUint_t) (InterfaceIdUint_t) x;
}
InterfaceId_t pna_InterfaceId_header_to_int(in InterfaceIdInHeader_t x) {
    return (InterfaceId_t) (InterfaceIdUint_t) (InterfaceIdInHeaderUint_t) x;
}

MulticastGroupInHeader_t pna_MulticastGroup_int_to_header(in MulticastGroup_t x) {
    return (MulticastGroupInHeader_t) (MulticastGroupInHeaderUint_t) (MulticastGroupUint_t) x;
}
MulticastGroup_t pna_MulticastGroup_header_to_int(in MulticastGroupInHeader_t x) {
    return (MulticastGroup_t) (MulticastGroupUint_t) (MulticastGroupInHeaderUint_t) x;
}

MulticastInstanceInHeader_t pna_MulticastInstance_int_to_header(in MulticastInstance_t x) {
    return (MulticastInstanceInHeader_t) (MulticastInstanceInHeaderUint_t) (MulticastInstanceUint_t) x;
}
MulticastInstance_t pna_MulticastInstance_header_to_int(in MulticastInstanceInHeader_t x) {
    return (MulticastInstance_t) (MulticastInstanceUint_t) (MulticastInstanceInHeaderUint_t) x;
}

MirrorSessionIdInHeader_t pna_MirrorSessionId_int_to_header(in MirrorSessionId_t x) {
    return (MirrorSessionIdInHeader_t) (MirrorSessionIdInHeaderUint_t) (MirrorSessionIdUint_t) x;
}
MirrorSessionId_t pna_MirrorSessionId_header_to_int(in MirrorSessionIdInHeader_t x) {
    return (MirrorSessionId_t) (MirrorSessionIdUint_t) (MirrorSessionIdInHeaderUint_t) x;
}

ClassOfServiceInHeader_t pna_ClassOfService_int_to_header(in ClassOfService_t x) {
    return (ClassOfServiceInHeader_t) (ClassOfServiceInHeaderUint_t) (ClassOfServiceUint_t) x;
}
ClassOfService_t pna_ClassOfService_header_to_int(in ClassOfServiceInHeader_t x) {
    return (ClassOfService_t) (ClassOfServiceUint_t) (ClassOfServiceInHeaderUint_t) x;
}

PacketLengthInHeader_t pna_PacketLength_int_to_header(in PacketLength_t x) {
    return (PacketLengthInHeader_t) (PacketLengthInHeaderUint_t) (PacketLengthUint_t) x;
}
PacketLength_t pna_PacketLength_header_to_int(in PacketLengthInHeader_t x) {
    return (PacketLength_t) (PacketLengthUint_t) (PacketLengthInHeaderUint_t) x;
}

TimestampInHeader_t pna_Timestamp_int_to_header(in Timestamp_t x) {
    return (TimestampInHeader_t) (TimestampInHeaderUint_t) (TimestampUint_t) x;
}
Timestamp_t pna_Timestamp_header_to_int(in TimestampInHeader_t x) {
    return (Timestamp_t) (TimestampUint_t) (TimestampInHeaderUint_t) x;
}

PassNumberInHeader_t pna_PassNumber_int_to_header(in PassNumber_t x) {
    return (PassNumberInHeader_t) (PassNumberInHeaderUint_t) (PassNumberUint_t) x;
}
PassNumber_t pna_PassNumber_header_to_int(in PassNumberInHeader_t x) {
    return (PassNumber_t) (PassNumberUint_t) (PassNumberInHeaderUint_t) x;
}

FlowIdInHeader_t pna_FlowId_int_to_header(in FlowId_t x) {
    return (FlowIdInHeader_t) (FlowIdInHeaderUint_t) (FlowIdUint_t) x;
}
FlowId_t pna_FlowId_header_to_int(in FlowIdInHeader_t x) {
    return (FlowId_t) (FlowIdUint_t) (FlowIdInHeaderUint_t) x;
}

ExpireTimeProfileIdInHeader_t pna_ExpireTimeProfileId_int_to_header(in ExpireTimeProfileId_t x) {
    return (ExpireTimeProfileIdInHeader_t) (ExpireTimeProfileIdInHeaderUint_t) (ExpireTimeProfileIdUint_t) x;
}
ExpireTimeProfileId_t pna_ExpireTimeProfileId_header_to_int(in ExpireTimeProfileIdInHeader_t x) {
    return (ExpireTimeProfileId_t) (ExpireTimeProfileIdUint_t) (ExpireTimeProfileIdInHeaderUint_t) x;
}

/*
 * ---------------------------------------------------------------------
 * Table features.
 * ---------------------------------------------------------------------
 */

// Match kinds PNA adds to core.p4's exact/ternary/lpm:
//   range    -- the field lies in [min, max];
//   selector -- the field feeds an ActionSelector's member choice;
//   optional -- either exact, or a wildcard over the whole field.
match_kind {
    range,
    selector,
    optional
}

// Values of the `pna_idle_timeout` table property: no aging; tell the
// control plane when an entry has been idle too long; or delete such an
// entry in the data plane without telling anyone.
enum PNA_IdleTimeout_t {
    NO_TIMEOUT,
    NOTIFY_CONTROL,
    AUTO_DELETE
}

/*
 * ---------------------------------------------------------------------
 * Hashes and checksums.
 * ---------------------------------------------------------------------
 */

// Algorithms for Hash, Checksum and ActionSelector. ONES_COMPLEMENT16 is
// the 16-bit one's complement sum of IPv4, TCP and UDP; TARGET_DEFAULT is
// whatever the target prefers.
enum PNA_HashAlgorithm_t {
    IDENTITY,
    CRC32,
    CRC32_CUSTOM,
    CRC16,
    CRC16_CUSTOM,
    ONES_COMPLEMENT16,
    TARGET_DEFAULT
}

// A hash unit producing values of type O.
extern Hash<O> {
    Hash(PNA_HashAlgorithm_t algo);

    // The hash of `data`.
    O get_hash<D>(in D data);

    // base + (hash of `data`) % max. Targets may only accept some values
    // of `max` (small powers of two are the portable choice).
    O get_hash<T, D>(in T base, in D data, in T max);
}

// A checksum unit producing values of type W. It starts cleared each time
// the block that owns it runs; its state never outlives a packet.
extern Checksum<W> {
    Checksum(PNA_HashAlgorithm_t hash);

    // Forget all data added so far.
    void clear();

    // Add `data` to the sum.
    void update<T>(in T data);

    // The checksum of what has been added since the last clear().
    W get();
}

// The 16-bit one's complement checksum of IPv4/TCP/UDP, with incremental
// update in the style of RFC 1624: data can be subtracted as well as
// added, and the running state saved and restored. Cleared per packet,
// like Checksum.
extern InternetChecksum {
    InternetChecksum();

    void clear();

    // Add or remove data; its size must be a multiple of 16 bits.
    void add<T>(in T data);
    void subtract<T>(in T data);

    // The checksum of the data added and not subtracted since clear().
    bit<16> get();

    // The raw running sum, to be handed to set_state() later, possibly on
    // another InternetChecksum instance.
    bit<16> get_state();
    void set_state(in bit<16> checksum_state);
}

/*
 * ---------------------------------------------------------------------
 * Counters.
 *
 * W is the width of each counter value as the data plane keeps it, S the
 * type of the index. An indexed Counter holds `n_counters` cells; a
 * DirectCounter has one cell per entry of the table that names it in its
 * `pna_direct_counter` property. `increment`, when given, replaces the
 * packet's length or 1 as the amount added.
 * ---------------------------------------------------------------------
 */

enum PNA_CounterType_t {
    PACKETS,
    BYTES,
    PACKETS_AND_BYTES
}

@noWarn("unused")
extern Counter<W, S> {
    Counter(bit<32> n_counters, PNA_CounterType_t type);
    void count(in S index, @optional in bit<32> increment);
}

@noWarn("unused")
extern DirectCounter<W> {
    DirectCounter(PNA_CounterType_t type);
    void count(@optional in bit<32> increment);
}

/*
 * ---------------------------------------------------------------------
 * Meters (two-rate three-colour markers, RFC 2698).
 *
 * `execute` with a colour argument is colour-aware (the colour is the
 * packet's colour so far); without one it is colour-blind, as if the
 * packet were GREEN. A DirectMeter is attached to a table through its
 * `pna_direct_meter` property and meters the matched entry; `pkt_len`,
 * when given, is used instead of the packet's own length.
 * ---------------------------------------------------------------------
 */

enum PNA_MeterType_t {
    PACKETS,
    BYTES
}

enum PNA_MeterColor_t {
    RED,
    GREEN,
    YELLOW
}

extern Meter<S> {
    Meter(bit<32> n_meters, PNA_MeterType_t type);
    PNA_MeterColor_t execute(in S index, in PNA_MeterColor_t color);
    PNA_MeterColor_t execute(in S index);
}

extern DirectMeter {
    DirectMeter(PNA_MeterType_t type);
    PNA_MeterColor_t execute(in PNA_MeterColor_t color, @optional in bit<32> pkt_len);
    PNA_MeterColor_t execute(@optional in bit<32> pkt_len);
}

/*
 * ---------------------------------------------------------------------
 * State and randomness.
 * ---------------------------------------------------------------------
 */

// An array of `size` cells of type T, indexed by S, that keeps its
// contents across packets. Cells start undefined unless an initial value
// is given.
extern Register<T, S> {
    Register(bit<32> size);
    Register(bit<32> size, T initial_value);

    T read(in S index);
    void write(in S index, in T value);
}

// Uniform random values in [min, max], both ends included. Targets may
// insist that max - min + 1 be a power of two.
extern Random<T> {
    Random(T min, T max);
    T read();
}

/*
 * ---------------------------------------------------------------------
 * Shared action storage, named by a table's `pna_implementation`
 * property.
 * ---------------------------------------------------------------------
 */

// A pool of `size` action members that table entries refer to.
extern ActionProfile {
    ActionProfile(bit<32> size);
}

// Like ActionProfile, with members grouped; the member used for a packet
// is picked within its group by hashing the `selector` key fields with
// `algo`, keeping `outputWidth` bits of the hash.
extern ActionSelector {
    ActionSelector(PNA_HashAlgorithm_t algo, bit<32> size, bit<32> outputWidth);
}

/*
 * ---------------------------------------------------------------------
 * Messages to the control plane.
 * ---------------------------------------------------------------------
 */

// A stream of T values; each pack() sends one to the control plane.
extern Digest<T> {
    Digest();
    void pack(in T data);
}

/*
 * ---------------------------------------------------------------------
 * Intrinsic metadata.
 * ---------------------------------------------------------------------
 */

// Which way a packet is travelling through the NIC.
enum PNA_Direction_t {
    NET_TO_HOST,
    HOST_TO_NET
}

// How a packet reached the main block (kept for programs that name it).
enum PNA_PacketPath_t {
    FROM_NET_PORT,
    FROM_NET_LOOPEDBACK,
    FROM_NET_RECIRCULATED,
    FROM_HOST,
    FROM_HOST_LOOPEDBACK,
    FROM_HOST_RECIRCULATED
}

// Given by the architecture to the pre-control.
struct pna_pre_input_metadata_t {
    PortId_t          input_port;
    ParserError_t     parser_error;
    PNA_Direction_t   direction;
    PassNumber_t      pass;
    bool              loopedback;
}

// Set by the pre-control: whether to decrypt the packet, with which
// security association, and where in the packet decryption begins.
struct pna_pre_output_metadata_t {
    bool              decrypt;
    SecurityAssocId_t said;
    bit<16>           decrypt_start_offset;
}

// Given to the main parser. `input_port` is the network port the packet
// came in on (NET_TO_HOST) or the host vport it came from (HOST_TO_NET).
struct pna_main_parser_input_metadata_t {
    PNA_Direction_t   direction;
    PassNumber_t      pass;
    bool              loopedback;
    PortId_t          input_port;
}

// Given to the main control, after parsing.
struct pna_main_input_metadata_t {
    PNA_Direction_t   direction;
    PassNumber_t      pass;
    bool              loopedback;
    Timestamp_t       timestamp;
    ParserError_t     parser_error;
    ClassOfService_t  class_of_service;
    PortId_t          input_port;
}

// Written by the main control, read by the main deparser and by the
// architecture once the pass is over.
struct pna_main_output_metadata_t {
    ClassOfService_t  class_of_service;
}

/*
 * ---------------------------------------------------------------------
 * Packet fate.
 *
 * drop_packet() and send_to_port() decide where the packet goes; each
 * call overrides any earlier one, so the last call executed wins. They
 * are meant for the main control.
 * ---------------------------------------------------------------------
 */

extern void drop_packet();
extern void send_to_port(in PortId_t dest_port);

// Make a copy of the packet in mirror slot `mirror_slot_id`, handled
// according to mirror session `mirror_session_id`.
extern void mirror_packet(in MirrorSlotId_t mirror_slot_id,
                          in MirrorSessionId_t mirror_session_id);

// Run the packet through the main block again after this pass.
extern void recirculate();

// Whether a port id names a host-side vport or a network port.
extern bool is_host_port(in PortId_t p);
extern bool is_net_port(in PortId_t p);

/*
 * ---------------------------------------------------------------------
 * Table entries managed from the data plane.
 * ---------------------------------------------------------------------
 */

// Add-on-miss: called from the default action of a table whose
// `add_on_miss` property is true, it inserts an entry whose key is the
// key that just missed, whose action is `action_name` (one of the
// table's actions that may appear in entries) and whose action data is
// `action_params` (a struct with one field per action parameter, same
// names, order and types). The entry starts with aging profile
// `expire_time_profile_id`. Returns whether the entry was added.
extern bool add_entry<T>(string action_name,
                         in T action_params,
                         in ExpireTimeProfileId_t expire_time_profile_id);

// A fresh flow identifier.
extern FlowId_t allocate_flow_id();

// For use in the actions of a table with idle timeout enabled: give the
// matched entry aging profile `expire_time_profile_id` ...
extern void set_entry_expire_time(in ExpireTimeProfileId_t expire_time_profile_id);

// ... or restart the matched entry's idle timer ...
extern void restart_expire_timer();

// ... or choose at run time, without an `if` in the action: nothing when
// `update_aging_info` is false; otherwise
// set_entry_expire_time(expire_time_profile_id) if `update_expire_time`
// is true, restart_expire_timer() if not ...
extern void update_expire_info(in bool update_aging_info,
                               in bool update_expire_time,
                               in ExpireTimeProfileId_t expire_time_profile_id);

// ... or set the profile only when `condition` holds.
extern void set_entry_expire_time_if(in bool condition,
                                     in ExpireTimeProfileId_t expire_time_profile_id);

/*
 * ---------------------------------------------------------------------
 * Direction-dependent values.
 *
 * SelectByDirection(d, a, b) is `a` when d is NET_TO_HOST and `b`
 * otherwise. It is an extern (and pure) rather than a P4 function so
 * that it reaches the back end intact; the typical use is a table key
 * that swaps source and destination addresses by direction.
 * ---------------------------------------------------------------------
 */

@pure
extern T SelectByDirection<T>(in PNA_Direction_t direction,
                              in T n2h_value,
                              in T h2n_value);

/*
 * ---------------------------------------------------------------------
 * The programmable blocks and the top-level package.
 *
 * PH/PM are the pre-control's header and metadata types, MH/MM the main
 * parser/control/deparser's. A program instantiates
 *     PNA_NIC(MyParser(), MyPreControl(), MyControl(), MyDeparser()) main;
 * ---------------------------------------------------------------------
 */

control PreControlT<PH, PM>(
    in    PH pre_hdr,
    inout PM pre_user_meta,
    in    pna_pre_input_metadata_t istd,
    inout pna_pre_output_metadata_t ostd);

parser MainParserT<MH, MM>(
    packet_in pkt,
    out   MH main_hdr,
    inout MM main_user_meta,
    in    pna_main_parser_input_metadata_t istd);

control MainControlT<MH, MM>(
    inout MH main_hdr,
    inout MM main_user_meta,
    in    pna_main_input_metadata_t istd,
    inout pna_main_output_metadata_t ostd);

control MainDeparserT<MH, MM>(
    packet_out pkt,
    in    MH main_hdr,
    in    MM main_user_meta,
    in    pna_main_output_metadata_t ostd);

package PNA_NIC<PH, PM, MH, MM>(
    MainParserT<MH, MM> main_parser,
    PreControlT<PH, PM> pre_control,
    MainControlT<MH, MM> main_control,
    MainDeparserT<MH, MM> main_deparser);

#endif /* _P4TC_PNA_ARCH_ */
