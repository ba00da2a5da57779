//! The control plane's fast write path: many map elements, and their events, per `bpf(2)`
//! call.
//!
//! A [`Stager`] owns, for one table, an mmap-able `ARRAY` of records (the *staging* array)
//! that this process fills in place, and up to two tiny `BPF_PROG_TYPE_SYSCALL` programs
//! built here as raw BPF instructions (aya 0.13.1 cannot load a `syscall` ELF section, and
//! building them at run time needs no change to the generated code):
//!
//! - the **insert** program walks the first N records with `bpf_loop` and writes each one's
//!   key and value into the table's map with `bpf_map_update_elem(.., BPF_NOEXIST)`, leaving
//!   the helper's result (0 or a negative errno) in the record's status word. One
//!   `BPF_PROG_TEST_RUN` inserts up to [`MAX_RECORDS`] elements. Sleepable programs may use
//!   hash and array maps but not LPM tries: those tables are written with
//!   `BPF_MAP_UPDATE_BATCH` instead ([`WritePath::BatchOp`]).
//! - the **emit** program walks the records and, for each one whose event word is non-zero,
//!   copies its event (`struct p4tc_event_hdr`, the map key, padding to 8 and the map value,
//!   laid out so in the record) into the pipeline's `p4tc_aging_events` ring with `bpf_ringbuf_output`, leaving
//!   the result in the event word: how control-plane changes reach `p4tc mon` and every other
//!   process reading the ring. A full ring refuses the event (`-EAGAIN`): it is counted as lost.
//!
//! A record: `i32` status, `u32` event word, the 56-byte event head, the map key, padding to
//! 8, the map value.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use crate::aging::EVENT_HDR_SIZE;
use crate::sys;

/// The most records one program run handles (and a staging array holds).
pub const MAX_RECORDS: u32 = 1 << 16;

/// How a batch of creates reaches the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WritePath {
    /// Records staged in an mmap-able array, inserted by a syscall program (hash maps).
    SyscallProgram,
    /// `BPF_MAP_UPDATE_BATCH` (every map kind).
    BatchOp,
    /// One `BPF_MAP_UPDATE_ELEM` per element.
    PerEntry,
    /// Written straight into the mapped slots of an exact table kept as open addressing
    /// ([`crate::open_table`]): no system call. The only path such a table takes.
    Slots,
}

impl std::fmt::Display for WritePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WritePath::SyscallProgram => "syscall program",
            WritePath::BatchOp => "batch op",
            WritePath::PerEntry => "per-entry syscall",
            WritePath::Slots => "mapped slots",
        })
    }
}

/// Offset of the event head in a record.
const EVENT_AT: usize = 8;
/// Offset of the map key in a record.
const KEY_AT: usize = EVENT_AT + EVENT_HDR_SIZE;

/// Where things lie in one table's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RecordLayout {
    key_size: usize,
    value_size: usize,
    value_at: usize,
    stride: usize,
}

impl RecordLayout {
    fn new(key_size: usize, value_size: usize) -> RecordLayout {
        let value_at = (KEY_AT + key_size).div_ceil(8) * 8;
        let size = value_at + value_size;
        RecordLayout {
            key_size,
            value_size,
            value_at,
            stride: size.div_ceil(8) * 8,
        }
    }

    fn size(&self) -> usize {
        self.value_at + self.value_size
    }
}

/// One raw BPF instruction.
#[derive(Clone, Copy, Debug)]
struct Insn {
    code: u8,
    dst: u8,
    src: u8,
    off: i16,
    imm: i32,
}

impl Insn {
    fn bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0] = self.code;
        b[1] = (self.dst & 0xf) | (self.src << 4);
        b[2..4].copy_from_slice(&self.off.to_le_bytes());
        b[4..8].copy_from_slice(&self.imm.to_le_bytes());
        b
    }
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        dst,
        src,
        off,
        imm,
    }
}

// Opcodes (class | op | source), from the eBPF instruction set.
const MOV64_X: u8 = 0xbf;
const MOV64_K: u8 = 0xb7;
const ADD64_K: u8 = 0x07;
const LDX_W: u8 = 0x61;
const STX_W: u8 = 0x63;
const JEQ_K: u8 = 0x15;
const CALL: u8 = 0x85;
const EXIT: u8 = 0x95;
const LD_IMM64: u8 = 0x18;
/// `ld_imm64` source: the immediate is a map descriptor.
const PSEUDO_MAP_FD: u8 = 1;
/// `ld_imm64` source: the immediate is a subprogram's offset.
const PSEUDO_FUNC: u8 = 4;

const HELPER_MAP_LOOKUP: i32 = 1;
const HELPER_MAP_UPDATE: i32 = 2;
const HELPER_RINGBUF_OUTPUT: i32 = 130;
const HELPER_LOOP: i32 = 181;

fn ld_map(dst: u8, fd: i32) -> [Insn; 2] {
    [
        insn(LD_IMM64, dst, PSEUDO_MAP_FD, 0, fd),
        insn(0, 0, 0, 0, 0),
    ]
}

/// A callback body's instruction, or a jump to its end (resolved when the program is built).
enum Step {
    I(Insn),
    /// `if dst <op> imm goto end`.
    JumpOut {
        code: u8,
        dst: u8,
        imm: i32,
    },
}

/// The program: `bpf_loop(ctx->count, callback, NULL, 0)`, then exit with the loop's result;
/// the callback looks record `index` up in the staging array (r6 = the record) and runs
/// `body`, then returns 0 (go on).
fn looped(staging: i32, body: Vec<Step>) -> Vec<u8> {
    let mut p: Vec<Insn> = Vec::new();
    // Main program: r1 = ctx.
    p.push(insn(LDX_W, 1, 1, 0, 0)); // r1 = ctx->count
    let func_at = p.len();
    p.push(insn(LD_IMM64, 2, PSEUDO_FUNC, 0, 0)); // r2 = callback (patched below)
    p.push(insn(0, 0, 0, 0, 0));
    p.push(insn(MOV64_K, 3, 0, 0, 0));
    p.push(insn(MOV64_K, 4, 0, 0, 0));
    p.push(insn(CALL, 0, 0, 0, HELPER_LOOP));
    p.push(insn(EXIT, 0, 0, 0, 0));
    // The callback: r1 = index, r2 = its context (unused).
    let callback = p.len();
    debug_assert_eq!(callback, CALLBACK_AT as usize);
    p[func_at].imm = (callback - func_at - 1) as i32;
    p.push(insn(STX_W, 10, 1, -4, 0)); // *(u32 *)(fp - 4) = index
    p.push(insn(MOV64_X, 2, 10, 0, 0));
    p.push(insn(ADD64_K, 2, 0, 0, -4));
    p.extend(ld_map(1, staging));
    p.push(insn(CALL, 0, 0, 0, HELPER_MAP_LOOKUP));
    let mut outs = vec![p.len()];
    p.push(insn(JEQ_K, 0, 0, 0, 0));
    p.push(insn(MOV64_X, 6, 0, 0, 0)); // r6 = the record
    for step in body {
        match step {
            Step::I(i) => p.push(i),
            Step::JumpOut { code, dst, imm } => {
                outs.push(p.len());
                p.push(insn(code, dst, 0, 0, imm));
            }
        }
    }
    let end = p.len();
    for at in outs {
        p[at].off = (end - at - 1) as i16;
    }
    p.push(insn(MOV64_K, 0, 0, 0, 0));
    p.push(insn(EXIT, 0, 0, 0, 0));
    p.into_iter().flat_map(Insn::bytes).collect()
}

/// Where the callback starts in every program [`looped`] builds.
const CALLBACK_AT: u32 = 7;

/// BTF describing the two functions of a [`looped`] program (the kernel wants it for a
/// program whose callback is passed by address): type 1 `long`; 2 the main function's
/// prototype `long (long ctx)`; 3 the main function; 4 the callback's prototype
/// `long (long i, long c)`; 5 the callback. Both are static.
fn btf_blob() -> Vec<u8> {
    let strings: &[u8] = b"\0long\0ctx\0p4tc_bulk\0i\0c\0p4tc_bulk_cb\0";
    let name = |s: &str| -> u32 {
        let needle = format!("\0{s}\0");
        strings
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
            .map_or(0, |p| p as u32 + 1)
    };
    const INT: u32 = 1;
    const FUNC: u32 = 12;
    const FUNC_PROTO: u32 = 13;
    let mut types: Vec<u32> = Vec::new();
    // 1: long (signed, 64 bits).
    types.extend([name("long"), INT << 24, 8, (1 << 24) | 64]);
    // 2: long (long ctx).
    types.extend([0, (FUNC_PROTO << 24) | 1, 1, name("ctx"), 1]);
    // 3: p4tc_bulk.
    types.extend([name("p4tc_bulk"), FUNC << 24, 2]);
    // 4: long (long i, long c).
    types.extend([0, (FUNC_PROTO << 24) | 2, 1, name("i"), 1, name("c"), 1]);
    // 5: p4tc_bulk_cb.
    types.extend([name("p4tc_bulk_cb"), FUNC << 24, 4]);
    let type_len = (types.len() * 4) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(&0xeb9fu16.to_ne_bytes());
    b.push(1); // version
    b.push(0); // flags
    for w in [24u32, 0, type_len, type_len, strings.len() as u32] {
        b.extend_from_slice(&w.to_ne_bytes());
    }
    for w in types {
        b.extend_from_slice(&w.to_ne_bytes());
    }
    b.extend_from_slice(strings);
    b
}

/// Loads a [`looped`] program.
fn load_looped(name: &str, code: &[u8]) -> Result<OwnedFd, String> {
    let btf = sys::btf_load(&btf_blob()).map_err(|e| format!("BTF: {e}"))?;
    let funcs = [(0, 3), (CALLBACK_AT, 5)];
    let info = sys::FuncInfo {
        btf: btf.as_fd(),
        funcs: &funcs,
    };
    sys::prog_load(
        name,
        sys::PROG_TYPE_SYSCALL,
        sys::BPF_F_SLEEPABLE,
        code,
        Some(&info),
    )
    .map_err(|e| e.to_string())
}

/// The insert program for `table` (see the module doc).
fn insert_program(staging: i32, table: i32, layout: RecordLayout, flags: u64) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(ld_map(1, table).map(Step::I));
    body.push(Step::I(insn(MOV64_X, 2, 6, 0, 0)));
    body.push(Step::I(insn(ADD64_K, 2, 0, 0, KEY_AT as i32)));
    body.push(Step::I(insn(MOV64_X, 3, 6, 0, 0)));
    body.push(Step::I(insn(ADD64_K, 3, 0, 0, layout.value_at as i32)));
    body.push(Step::I(insn(MOV64_K, 4, 0, 0, flags as i32)));
    body.push(Step::I(insn(CALL, 0, 0, 0, HELPER_MAP_UPDATE)));
    body.push(Step::I(insn(STX_W, 6, 0, 0, 0))); // record.status = result
    looped(staging, body)
}

/// The emit program into `ring` (see the module doc).
fn emit_program(staging: i32, ring: i32, layout: RecordLayout) -> Vec<u8> {
    let mut body = Vec::new();
    body.push(Step::I(insn(LDX_W, 1, 6, 4, 0)));
    body.push(Step::JumpOut {
        code: JEQ_K,
        dst: 1,
        imm: 0,
    });
    body.extend(ld_map(1, ring).map(Step::I));
    body.push(Step::I(insn(MOV64_X, 2, 6, 0, 0)));
    body.push(Step::I(insn(ADD64_K, 2, 0, 0, EVENT_AT as i32)));
    // The head, the key, padding to 8 and the value: the record as the datapath's events
    // lay it out (`AgingEvent::decode` finds the value after the key's 8-aligned end).
    body.push(Step::I(insn(
        MOV64_K,
        3,
        0,
        0,
        (layout.value_at - EVENT_AT + layout.value_size) as i32,
    )));
    body.push(Step::I(insn(MOV64_K, 4, 0, 0, 0)));
    body.push(Step::I(insn(CALL, 0, 0, 0, HELPER_RINGBUF_OUTPUT)));
    body.push(Step::I(insn(STX_W, 6, 0, 4, 0))); // record.event = result
    looped(staging, body)
}

/// One element to write, with its event (when it has one).
#[derive(Clone, Debug)]
pub struct Record<'a> {
    /// The map key.
    pub key: &'a [u8],
    /// The map value.
    pub value: &'a [u8],
    /// The event head (`struct p4tc_event_hdr`), when the write is to be published.
    pub event: Option<[u8; EVENT_HDR_SIZE]>,
}

/// What became of a batch's events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Emitted {
    /// Events in the ring.
    pub sent: u64,
    /// Events the full ring refused.
    pub lost: u64,
}

/// One table's staging array and programs (see the module doc).
pub struct Stager {
    array: sys::MappedArray,
    capacity: u32,
    layout: RecordLayout,
    /// The insert program, or why the kernel refused it.
    insert: Option<Result<OwnedFd, String>>,
    /// The emit program, or why the kernel refused it.
    emit: Option<Result<OwnedFd, String>>,
}

impl std::fmt::Debug for Stager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stager")
            .field("capacity", &self.capacity)
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl Stager {
    /// A stager of `capacity` records (at most [`MAX_RECORDS`]) for a map of these sizes.
    pub fn new(key_size: usize, value_size: usize, capacity: u32) -> std::io::Result<Stager> {
        let layout = RecordLayout::new(key_size, value_size);
        let capacity = capacity.clamp(1, MAX_RECORDS);
        let array = sys::MappedArray::create("p4tc_stage", layout.size() as u32, capacity)?;
        Ok(Stager {
            array,
            capacity,
            layout,
            insert: None,
            emit: None,
        })
    }

    /// How many records it holds.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Whether it was made for a map of these sizes.
    pub fn fits(&self, key_size: usize, value_size: usize) -> bool {
        self.layout.key_size == key_size && self.layout.value_size == value_size
    }

    /// Loads the insert program for `table` (once): Err says why the kernel refused it.
    pub fn insert_ready(&mut self, table: &sys::SizedMap) -> Result<(), String> {
        if self.insert.is_none() {
            let code = insert_program(
                self.array.fd().as_raw_fd(),
                table.fd().as_raw_fd(),
                self.layout,
                sys::BPF_NOEXIST,
            );
            self.insert = Some(load_looped("p4tc_bulk_ins", &code));
        }
        match &self.insert {
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e.clone()),
            None => Err("not loaded".into()),
        }
    }

    /// Loads the emit program into `ring` (once): Err says why the kernel refused it.
    pub fn emit_ready(&mut self, ring: &sys::SizedMap) -> Result<(), String> {
        if self.emit.is_none() {
            let code = emit_program(
                self.array.fd().as_raw_fd(),
                ring.fd().as_raw_fd(),
                self.layout,
            );
            self.emit = Some(load_looped("p4tc_bulk_emit", &code));
        }
        match &self.emit {
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e.clone()),
            None => Err("not loaded".into()),
        }
    }

    /// Writes `records` (at most [`Stager::capacity`]) into the staging array.
    fn stage(&mut self, records: &[Record<'_>]) -> std::io::Result<()> {
        let l = self.layout;
        if records.len() > self.capacity as usize {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "more records than the staging array holds",
            ));
        }
        let bytes = self.array.bytes_mut();
        for (i, r) in records.iter().enumerate() {
            if r.key.len() != l.key_size || r.value.len() != l.value_size {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "a record's key or value size",
                ));
            }
            let at = i * l.stride;
            let rec = &mut bytes[at..at + l.stride];
            rec[0..4].copy_from_slice(&0i32.to_ne_bytes());
            rec[4..8].copy_from_slice(&u32::from(r.event.is_some()).to_ne_bytes());
            if let Some(e) = &r.event {
                rec[EVENT_AT..KEY_AT].copy_from_slice(e);
            }
            rec[KEY_AT..KEY_AT + l.key_size].copy_from_slice(r.key);
            rec[l.value_at..l.value_at + l.value_size].copy_from_slice(r.value);
        }
        Ok(())
    }

    fn run(prog: &Option<Result<OwnedFd, String>>, count: usize) -> std::io::Result<()> {
        let Some(Ok(fd)) = prog else {
            return Err(std::io::Error::other("the program is not loaded"));
        };
        let mut ctx = (count as u32).to_ne_bytes();
        sys::run_syscall_prog(fd.as_fd(), &mut ctx)?;
        Ok(())
    }

    /// Inserts `records` with the insert program ([`Stager::insert_ready`] first), then
    /// publishes the events of those written (with the emit program, when it is loaded).
    /// Returns each record's result (0 or a negative errno) and the events' fate.
    pub fn insert(&mut self, records: &[Record<'_>]) -> std::io::Result<(Vec<i32>, Emitted)> {
        self.stage(records)?;
        Self::run(&self.insert, records.len())?;
        let l = self.layout;
        let mut status = Vec::with_capacity(records.len());
        let mut any_event = false;
        {
            let bytes = self.array.bytes_mut();
            for i in 0..records.len() {
                let rec = &mut bytes[i * l.stride..];
                let s = i32::from_ne_bytes([rec[0], rec[1], rec[2], rec[3]]);
                status.push(s);
                if s != 0 {
                    // Not written: no event.
                    rec[4..8].copy_from_slice(&0u32.to_ne_bytes());
                } else if records[i].event.is_some() {
                    any_event = true;
                }
            }
        }
        let emitted = if any_event && matches!(self.emit, Some(Ok(_))) {
            Self::run(&self.emit, records.len())?;
            self.tally(records)
        } else {
            Emitted::default()
        };
        Ok((status, emitted))
    }

    /// Publishes the events of `records` (keys and heads; values unused) with the emit
    /// program ([`Stager::emit_ready`] first).
    pub fn emit(&mut self, records: &[Record<'_>]) -> std::io::Result<Emitted> {
        self.stage(records)?;
        Self::run(&self.emit, records.len())?;
        Ok(self.tally(records))
    }

    fn tally(&mut self, records: &[Record<'_>]) -> Emitted {
        let l = self.layout;
        let bytes = self.array.bytes_mut();
        let mut out = Emitted::default();
        for (i, r) in records.iter().enumerate() {
            if r.event.is_none() {
                continue;
            }
            let rec = &bytes[i * l.stride..];
            let status = i32::from_ne_bytes([rec[0], rec[1], rec[2], rec[3]]);
            if status != 0 {
                continue;
            }
            let result = i32::from_ne_bytes([rec[4], rec[5], rec[6], rec[7]]);
            if result == 0 {
                out.sent += 1;
            } else {
                out.lost += 1;
            }
        }
        out
    }
}

/// The head of an event record (`struct p4tc_event_hdr`): kind, actor, table id, the map key's
/// size, the time, and the entry's head (the first 32 bytes of its value).
pub fn event_head(
    kind: u32,
    who: u32,
    table: u32,
    key_size: usize,
    at_ns: u64,
    entry_head: &[u8],
) -> [u8; EVENT_HDR_SIZE] {
    let mut e = [0u8; EVENT_HDR_SIZE];
    e[0..4].copy_from_slice(&kind.to_ne_bytes());
    e[4..8].copy_from_slice(&who.to_ne_bytes());
    e[8..12].copy_from_slice(&table.to_ne_bytes());
    e[12..16].copy_from_slice(&(key_size as u32).to_ne_bytes());
    e[16..24].copy_from_slice(&at_ns.to_ne_bytes());
    let n = entry_head.len().min(EVENT_HDR_SIZE - 24);
    e[24..24 + n].copy_from_slice(&entry_head[..n]);
    e
}

/// Writes `elements` (key, value) with `BPF_MAP_UPDATE_BATCH`, going on after an element
/// the kernel refuses: each element's result (0 or a negative errno). The op writes as
/// `BPF_ANY` does: keys must be new for a create (see `sys::map_update_batch`).
pub fn update_batch(map: &sys::SizedMap, elements: &[(&[u8], &[u8])]) -> Vec<i32> {
    let mut out = Vec::with_capacity(elements.len());
    let (ks, vs) = (map.key_size(), map.value_size());
    let mut keys = Vec::new();
    let mut values = Vec::new();
    while out.len() < elements.len() {
        let at = out.len();
        let chunk = &elements[at..elements.len().min(at + MAX_RECORDS as usize)];
        if chunk[0].0.len() != ks || chunk[0].1.len() != vs {
            out.push(-libc::EINVAL);
            continue;
        }
        keys.clear();
        values.clear();
        for (k, v) in chunk
            .iter()
            .take_while(|(k, v)| k.len() == ks && v.len() == vs)
        {
            keys.extend_from_slice(k);
            values.extend_from_slice(v);
        }
        let staged = keys.len() / ks.max(1);
        let (done, err) = sys::map_update_batch(map, &keys, &values);
        out.extend(std::iter::repeat_n(0, done));
        if done < staged {
            out.push(err.map_or(-libc::EIO, |e| -e.raw_os_error().unwrap_or(libc::EIO)));
        }
    }
    out
}

/// Writes each element with its own `BPF_MAP_UPDATE_ELEM`: each element's result.
pub fn update_each(map: &sys::SizedMap, elements: &[(&[u8], &[u8])], flags: u64) -> Vec<i32> {
    elements
        .iter()
        .map(|(k, v)| match map.update(k, v, flags) {
            Ok(()) => 0,
            Err(e) => -e.raw_os_error().unwrap_or(libc::EINVAL),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_laid_out_for_the_ring_and_the_map() {
        let l = RecordLayout::new(13, 40);
        // The event head, the key and the value are one event as the ring carries it (one
        // ringbuf_output): the value 8-aligned after the key, for the map update too.
        assert_eq!(KEY_AT, EVENT_AT + EVENT_HDR_SIZE);
        assert_eq!(l.value_at % 8, 0);
        assert_eq!(
            l.value_at - EVENT_AT,
            EVENT_HDR_SIZE + 13usize.next_multiple_of(8)
        );
        assert!(l.value_at >= KEY_AT + 13);
        assert_eq!(l.stride % 8, 0);
        assert!(l.stride >= l.size());
    }

    #[test]
    fn jumps_land_on_the_callback_end() {
        let code = emit_program(3, 4, RecordLayout::new(8, 8));
        let insns: Vec<&[u8]> = code.chunks(8).collect();
        // The callback's two exits-to-end (lookup failed, no event) both land on `r0 = 0`.
        let end = insns.len() - 2;
        assert_eq!(insns[end][0], MOV64_K);
        for (i, b) in insns.iter().enumerate() {
            if b[0] == JEQ_K {
                let off = i16::from_le_bytes([b[2], b[3]]) as usize;
                assert_eq!(i + 1 + off, end);
            }
        }
        // The callback pointer names the instruction after the main program's exit.
        let imm = i32::from_le_bytes([insns[1][4], insns[1][5], insns[1][6], insns[1][7]]);
        assert_eq!(insns[1 + 1 + imm as usize][0], STX_W);
    }

    /// The programs load and do their work (root and a kernel with syscall programs, else
    /// skipped with the reason).
    #[test]
    #[allow(clippy::print_stderr)]
    fn insert_and_emit_in_the_kernel() {
        if unsafe_free_is_root().is_none() {
            eprintln!("skipped: not root");
            return;
        }
        let fd = sys::map_create("t_bulk", sys::MAP_TYPE_HASH, 8, 16, 100, 0).expect("hash map");
        let table = sys::SizedMap::new(fd).expect("sized");
        let ring = sys::SizedMap::new(sys::map_create("t_ring", 27, 0, 0, 4096, 0).expect("ring"))
            .expect("sized ring");
        let mut s = Stager::new(8, 16, 128).expect("stager");
        if let Err(e) = s.insert_ready(&table) {
            panic!("insert program refused: {e}");
        }
        s.emit_ready(&ring).expect("emit program");
        let keys: Vec<[u8; 8]> = (0..120u64).map(|i| (i % 110).to_ne_bytes()).collect();
        let value = [7u8; 16];
        let head = event_head(1, 1, 9, 8, 5, &[0; 32]);
        let records: Vec<Record<'_>> = keys
            .iter()
            .map(|k| Record {
                key: k,
                value: &value,
                event: Some(head),
            })
            .collect();
        let (status, emitted) = s.insert(&records).expect("insert");
        // 110 distinct keys, 100 fit: 100 written, then E2BIG, then EEXIST for repeats.
        assert_eq!(status.iter().filter(|&&s| s == 0).count(), 100);
        assert_eq!(status[100], -libc::E2BIG);
        assert_eq!(status[115], -libc::EEXIST);
        assert_eq!(sys::map_count(table.fd()).expect("count"), 100);
        assert_eq!(table.lookup(&5u64.to_ne_bytes()).expect("lookup"), value);
        // A 4 KiB ring holds 4096 / (8 + 80) = 46 events; the rest are lost and counted.
        assert_eq!(emitted.sent + emitted.lost, 100);
        assert!(emitted.sent >= 40 && emitted.lost > 0, "{emitted:?}");
        let mut reader =
            sys::RingReader::new(ring.fd().try_clone_to_owned().expect("dup")).expect("reader");
        let got = reader.drain();
        assert_eq!(got.len() as u64, emitted.sent);
        assert_eq!(&got[0][..EVENT_HDR_SIZE], &head[..]);
        assert_eq!(
            &got[0][EVENT_HDR_SIZE..EVENT_HDR_SIZE + 8],
            &0u64.to_ne_bytes()[..]
        );
        assert_eq!(&got[0][EVENT_HDR_SIZE + 8..], &value[..]);
        // The batch op and the per-entry path give the same per-element answers.
        let k1 = 1000u64.to_ne_bytes();
        let k0 = 0u64.to_ne_bytes();
        let elements: Vec<(&[u8], &[u8])> = vec![(&k0, &value), (&k1, &value)];
        assert_eq!(
            update_each(&table, &elements, sys::BPF_NOEXIST),
            vec![-libc::EEXIST, -libc::E2BIG]
        );
        // The batch op writes as BPF_ANY: the existing key is overwritten, the new one
        // does not fit; it goes on after the refused element.
        let other = [9u8; 16];
        let elements: Vec<(&[u8], &[u8])> = vec![(&k1, &other), (&k0, &other)];
        assert_eq!(update_batch(&table, &elements), vec![-libc::E2BIG, 0]);
        assert_eq!(table.lookup(&k0).expect("lookup"), other);
    }

    /// The kernel refuses an LPM trie in a sleepable program (hence the batch op for them).
    #[test]
    #[allow(clippy::print_stderr)]
    fn the_kernel_refuses_an_lpm_trie_in_the_insert_program() {
        if unsafe_free_is_root().is_none() {
            eprintln!("skipped: not root");
            return;
        }
        let fd = sys::map_create(
            "t_trie",
            sys::MAP_TYPE_LPM_TRIE,
            8,
            16,
            100,
            sys::BPF_F_NO_PREALLOC,
        )
        .expect("trie");
        let trie = sys::SizedMap::new(fd).expect("sized");
        let mut s = Stager::new(8, 16, 64).expect("stager");
        let err = s.insert_ready(&trie).expect_err("refused");
        assert!(err.contains("Sleepable"), "{err}");
    }

    fn unsafe_free_is_root() -> Option<()> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let uid = status.lines().find(|l| l.starts_with("Uid:"))?;
        (uid.split_whitespace().nth(1)? == "0").then_some(())
    }
}
