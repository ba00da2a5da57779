/*
 * tc/pna.p4 -- P4TC's dialect of the Portable NIC Architecture, as shipped
 * inside p4tc.
 *
 * This file is p4tc's own. It declares what P4TC programs expect to find
 * after `#include <core.p4>` and `#include <tc/pna.p4>`: the three-block
 * PNA of the PNA specification's 0.7 revision (parser, control, deparser;
 * no pre-control, no direction field; is_net_port / is_host_port instead),
 * plus P4TC's extensions:
 *   - annotations on extern declarations telling the compiler how an
 *     extern is seen from TC: @tc_acl (default permissions of its
 *     instances), @tc_numel (the constructor argument giving the number of
 *     elements), @tc_init_val (initial value), @tc_md_exec / @tc_md_read /
 *     @tc_md_write (methods that act on the runtime object), @tc_key and
 *     @tc_data (which fields are the key and which the data);
 *   - tc_ControlPath_* structs: the control-plane view of each extern's
 *     instances (what `tc p4ctrl ... extern/...` reads and writes);
 *   - skb_get_* / skb_set_* functions for the kernel's TC packet metadata.
 * It also declares recirculate(), which P4TC left out and p4tc implements.
 *
 * It stands alone (it does not include <pna.p4>, whose four-block form is
 * incompatible) and shares its include guard with <pna.p4>: whichever of
 * the two comes first is the program's architecture, the other is skipped.
 *
 * Annotations that P4TC programs put on their own declarations (@tc_type,
 * @tc_acl on tables, @tc_may_override, @default_hit, @default_hit_const,
 * @nummask, ...) need no declaration here; see docs/architectures.md.
 */

#ifndef _P4TC_PNA_ARCH_
#define _P4TC_PNA_ARCH_
#define _P4TC_TC_PNA_P4_

#include <core.p4>

/*
 * ---------------------------------------------------------------------
 * Numeric types.
 *
 * `<Name>Uint_t` is a typedef of bit<W> that mixes freely in arithmetic;
 * `<Name>_t` is a distinct `type` over it that the control plane can
 * recognise. Casts convert between them.
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

// Well-known values: the CPU interface and the mirror session to it.
const InterfaceId_t PNA_PORT_CPU = (InterfaceId_t) 32w0xfffffffd;
const MirrorSessionId_t PNA_MIRROR_SESSION_TO_CPU = (MirrorSessionId_t) 16w0;

/*
 * ---------------------------------------------------------------------
 * The same quantities as header fields (byte-multiple widths, at least as
 * wide as any target's), with explicit conversion functions.
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

// Match kinds beyond core.p4's: range ([min, max]), selector (input to an
// ActionSelector) and optional (exact, or a whole-field wildcard).
match_kind {
    range,
    selector,
    optional
}

// Values of the `pna_idle_timeout` table property: no aging, notify the
// control plane of idle entries, or delete idle entries in the data plane.
// (In TC terms: entries are `dynamic` and carry a timer profile.)
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

// Algorithms for Hash, Checksum and ActionSelector. P4TC implements
// CRC16, CRC32 and ONES_COMPLEMENT16 (the IPv4/TCP/UDP sum).
enum PNA_HashAlgorithm_t {
    IDENTITY,
    CRC32,
    CRC32_CUSTOM,
    CRC16,
    CRC16_CUSTOM,
    ONES_COMPLEMENT16,
    TARGET_DEFAULT
}

// A hash unit producing values of type O: the hash of `data`, or
// base + hash % max.
extern Hash<O> {
    Hash(PNA_HashAlgorithm_t algo);
    @tc_md_exec O get_hash<D>(in D data);
    @tc_md_exec O get_hash<T, D>(in T base, in D data, in T max);
}

// A checksum unit producing values of type W; cleared whenever the block
// owning it starts on a packet.
extern Checksum<W> {
    Checksum(PNA_HashAlgorithm_t hash);
    void clear();
    void update<T>(in T data);
    W get();
}

// The incremental 16-bit one's complement checksum (RFC 1624 style):
// data (a multiple of 16 bits) can be added and subtracted, and the
// running state saved with get_state() and put back with set_state().
extern InternetChecksum {
    InternetChecksum();
    void clear();
    void add<T>(in T data);
    void subtract<T>(in T data);
    bit<16> get();
    bit<16> get_state();
    void set_state(in bit<16> checksum_state);
}

/*
 * ---------------------------------------------------------------------
 * Counters.
 *
 * W is the width of a counter value, S the index type. The
 * tc_ControlPath_* struct after each extern is the shape of one element
 * as the control plane reads or resets it: the index is the key, the
 * packet and byte totals are the data. The @tc_acl default lets the
 * control plane Read and Publish (R P) and the datapath Read, Update,
 * eXecute and Publish (R U X P).
 * ---------------------------------------------------------------------
 */

enum PNA_CounterType_t {
    PACKETS,
    BYTES,
    PACKETS_AND_BYTES
}

// An array of `n_counters` counters.
@noWarn("unused") @tc_acl("RP:RUXP")
extern Counter<W, S> {
    Counter(@tc_numel bit<32> n_counters, PNA_CounterType_t type);
    @tc_md_exec void count(in S index);
}

struct tc_ControlPath_Counter<W, S> {
    @tc_key  S index;
    @tc_data W pkts;
    @tc_data W bytes;
}

// One counter per entry of the table it is attached to (through the
// table's `pna_direct_counter` property); a hit counts the packet.
@noWarn("unused") @tc_acl("RP:RUXP")
extern DirectCounter<W> {
    DirectCounter(PNA_CounterType_t type);
    @tc_md_exec void count();
}

struct tc_ControlPath_DirectCounter<W> {
    @tc_key  bit<32> index;
    @tc_data W pkts;
    @tc_data W bytes;
}

/*
 * ---------------------------------------------------------------------
 * Meters: two-rate three-colour markers (RFC 2698). `execute` with a
 * colour is colour-aware, without one colour-blind. The control plane
 * sets each meter's committed and peak rates and burst sizes (cir, cbs,
 * pir, pbs). Default permissions: control plane R U P, datapath R U X P.
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

// An array of `n_meters` meters.
@tc_acl("RUP:RUXP")
extern Meter<S> {
    Meter(@tc_numel bit<32> n_meters, PNA_MeterType_t type);
    @tc_md_exec PNA_MeterColor_t execute(in S index, in PNA_MeterColor_t color);
    @tc_md_exec PNA_MeterColor_t execute(in S index);
}

struct tc_ControlPath_Meter<S> {
    @tc_key  S index;
    @tc_data bit<64> cir;
    @tc_data bit<64> cbs;
    @tc_data bit<64> pir;
    @tc_data bit<64> pbs;
}

// One meter per entry of the table it is attached to (through the table's
// `pna_direct_meter` property); executes on the matched entry.
@tc_acl("RUP:RUXP")
extern DirectMeter {
    DirectMeter(PNA_MeterType_t type);
    @tc_md_exec PNA_MeterColor_t execute(in PNA_MeterColor_t color);
    @tc_md_exec PNA_MeterColor_t execute();
}

struct tc_ControlPath_DirectMeter {
    @tc_key  bit<32> index;
    @tc_data bit<64> cir;
    @tc_data bit<64> cbs;
    @tc_data bit<64> pir;
    @tc_data bit<64> pbs;
}

/*
 * ---------------------------------------------------------------------
 * Registers, randomness, action storage.
 * ---------------------------------------------------------------------
 */

// `size` cells of type T indexed by S, kept across packets; undefined at
// first unless `initial_value` is given. The control plane sees a cell as
// its index (key) and its value (data).
extern Register<T, S> {
    Register(@tc_numel bit<32> size);
    Register(@tc_numel bit<32> size, @tc_init_val T initial_value);

    @tc_md_read  T read(@tc_key in S index);
    @tc_md_write void write(@tc_key in S index, @tc_data in T value);
}

struct tc_ControlPath_Register<T> {
    @tc_key  bit<32> index;
    @tc_data T a_value;
}

// Uniform random values in [min, max] inclusive (max - min + 1 may have
// to be a power of two).
extern Random<T> {
    Random(T min, T max);
    T read();
}

// A pool of `size` shared action members, named by a table's
// `pna_implementation` property.
extern ActionProfile {
    ActionProfile(bit<32> size);
}

// A pool of grouped members; within a group the member is chosen by a
// hash (`algo`, `outputWidth` bits) of the table's `selector` key fields.
extern ActionSelector {
    ActionSelector(PNA_HashAlgorithm_t algo, bit<32> size, bit<32> outputWidth);
}

/*
 * ---------------------------------------------------------------------
 * Digests: pack() sends one T to the control plane, where it arrives as
 * an event (`tc mon p4 events`).
 * ---------------------------------------------------------------------
 */

extern Digest<T> {
    Digest();
    @tc_md_exec void pack(in T data);
}

struct tc_ControlPath_Digest<T> {
    @tc_key  bit<32> index;
    @tc_data T data;
}

/*
 * ---------------------------------------------------------------------
 * TC packet metadata (the kernel's sk_buff fields).
 *
 * Reading: call skb_get_meta() first (it fetches what only the kernel
 * can tell, such as the two ingress flags), then the skb_get_* getters.
 * Writing: each skb_set_* records a new value for one field (its argument
 * is that value); skb_set_meta() then applies all recorded values to the
 * packet at once.
 * ---------------------------------------------------------------------
 */

extern void skb_get_meta();
extern bit<64> skb_get_tstamp();
extern bit<32> skb_get_mark();
extern bit<16> skb_get_tc_classid();
extern bit<16> skb_get_tc_index();
extern bit<16> skb_get_queue_mapping();
extern bit<16> skb_get_protocol();
extern bit<1> skb_get_tc_at_ingress();
extern bit<1> skb_get_from_ingress();

extern void skb_set_tstamp(in bit<64> dummy);
extern void skb_set_mark(in bit<32> dummy);
extern void skb_set_tc_classid(in bit<16> dummy);
extern void skb_set_tc_index(in bit<16> dummy);
extern void skb_set_queue_mapping(in bit<16> dummy);
extern void skb_set_protocol(in bit<16> dummy);
extern void skb_set_meta();

/*
 * ---------------------------------------------------------------------
 * Intrinsic metadata and port classes.
 *
 * There is no direction field: a program asks whether the input port is
 * a network port or a host port.
 * ---------------------------------------------------------------------
 */

// Where a packet came from.
enum PNA_Source_t {
    FROM_HOST,
    FROM_NET
}

// Whether port `p` is a host-side port (vport) or a network port.
extern bool is_host_port(in PortId_t p);
extern bool is_net_port(in PortId_t p);

// Given to the main parser. `input_port` is the network port or host
// vport the packet arrived on.
struct pna_main_parser_input_metadata_t {
    bool              recirculated;
    PortId_t          input_port;
}

// Given to the main control, after parsing.
struct pna_main_input_metadata_t {
    bool              recirculated;
    bool              recirculate;
    Timestamp_t       timestamp;
    ParserError_t     parser_error;
    ClassOfService_t  class_of_service;
    PortId_t          input_port;
}

// Written by the main control; read by the deparser and the architecture.
struct pna_main_output_metadata_t {
    ClassOfService_t  class_of_service;
}

/*
 * ---------------------------------------------------------------------
 * Packet fate. drop_packet() and send_to_port() choose where the packet
 * goes; the last call executed wins.
 * ---------------------------------------------------------------------
 */

extern void drop_packet();
extern void send_to_port(in PortId_t dest_port);

// Copy the packet into mirror slot `mirror_slot_id`, treated as mirror
// session `mirror_session_id` says.
extern void mirror_packet(in MirrorSlotId_t mirror_slot_id,
                          in MirrorSessionId_t mirror_session_id);

// Send the packet through the main block once more after this pass.
// (Not in P4TC's own include file; p4tc adds it.)
extern void recirculate();

/*
 * ---------------------------------------------------------------------
 * Table entries created and aged by the datapath.
 * ---------------------------------------------------------------------
 */

// Result of add_entry: ADD_ENTRY_SUCCESS, or ADD_ENTRY_NOT_DONE for any
// failure (in P4TC: the entry exists, the table is full, no permission,
// the entry pool is empty).
typedef bit<1> AddEntryErrorStatus_t;
const AddEntryErrorStatus_t ADD_ENTRY_SUCCESS = 0;
const AddEntryErrorStatus_t ADD_ENTRY_NOT_DONE = 1;

// Add-on-miss, from the default action of a table with
// `add_on_miss = true`: insert an entry keyed by the key that just missed,
// running action `action_name` with data `action_params` (a struct whose
// fields match that action's parameters by name, order and type), aged by
// timer profile `expire_time_profile_id`.
extern AddEntryErrorStatus_t add_entry<T>(string action_name,
                                          in T action_params,
                                          in ExpireTimeProfileId_t expire_time_profile_id);

// The same, done only when `do_add_entry` is true (ADD_ENTRY_NOT_DONE
// otherwise); lets an action avoid an `if`.
extern AddEntryErrorStatus_t add_entry_if<T>(in bool do_add_entry,
                                             string action_name,
                                             in T action_params,
                                             in ExpireTimeProfileId_t expire_time_profile_id);

// A fresh flow identifier.
extern FlowId_t allocate_flow_id();

// In an action of an aging table: move the matched entry to timer profile
// `expire_time_profile_id` (this also restarts its timer) ...
extern void set_entry_expire_time(in ExpireTimeProfileId_t expire_time_profile_id);

// ... or just restart its timer ...
extern void restart_expire_timer();

// ... or pick between those at run time: nothing when `update_aging_info`
// is false, otherwise set_entry_expire_time(expire_time_profile_id) when
// `update_expire_time` is true and restart_expire_timer() when not ...
extern void update_expire_info(in bool update_aging_info,
                               in bool update_expire_time,
                               in ExpireTimeProfileId_t expire_time_profile_id);

// ... or set the profile only when `condition` holds.
extern void set_entry_expire_time_if(in bool condition,
                                     in ExpireTimeProfileId_t expire_time_profile_id);

/*
 * ---------------------------------------------------------------------
 * Port-dependent values: SelectByDirection(c, a, b) is `a` when `c` is
 * true and `b` otherwise, typically
 *     SelectByDirection(is_net_port(istd.input_port), src, dst)
 * in a table key. Pure, and an extern so the back end sees it whole.
 * ---------------------------------------------------------------------
 */

@pure
extern T SelectByDirection<T>(in bool is_network_port,
                              in T from_net_value,
                              in T from_host_value);

/*
 * ---------------------------------------------------------------------
 * The programmable blocks and the top-level package: three blocks over
 * one header type MH and one metadata type MM.
 *     PNA_NIC(MyParser(), MyControl(), MyDeparser()) main;
 * The deparser gets the headers inout (it may still change them, e.g. to
 * fill in checksums).
 * ---------------------------------------------------------------------
 */

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
    inout MH main_hdr,
    in    MM main_user_meta,
    in    pna_main_output_metadata_t ostd);

package PNA_NIC<MH, MM>(
    MainParserT<MH, MM> main_parser,
    MainControlT<MH, MM> main_control,
    MainDeparserT<MH, MM> main_deparser);

#endif /* _P4TC_PNA_ARCH_ */
