//! Raw `bpf(2)` calls that aya does not offer: `BPF_PROG_TEST_RUN`.
//!
//! This is the crate's one module with unsafe code; each unsafe block says why it is sound.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `BPF_PROG_TEST_RUN` from `enum bpf_cmd`.
const BPF_PROG_TEST_RUN: libc::c_long = 10;

/// The `test` member of `union bpf_attr` (the kernel zero-extends a shorter attr).
#[repr(C)]
#[derive(Default)]
struct TestAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
    ctx_size_in: u32,
    ctx_size_out: u32,
    ctx_in: u64,
    ctx_out: u64,
    flags: u32,
    cpu: u32,
    batch_size: u32,
    _pad: u32,
}

/// What one `BPF_PROG_TEST_RUN` returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestRun {
    /// The program's return value (TC: `TC_ACT_*`; XDP: `XDP_*`).
    pub retval: u32,
    /// The packet as the program left it.
    pub data: Vec<u8>,
    /// Average run time per repetition, in nanoseconds, as the kernel measured it.
    pub duration_ns: u32,
}

/// Runs the loaded program `prog` on `packet`, `repeat` times (at least once), and returns
/// its verdict, the packet it leaves (up to `packet.len() + 512` bytes) and the mean time.
pub fn test_run(prog: BorrowedFd<'_>, packet: &[u8], repeat: u32) -> io::Result<TestRun> {
    let mut out = vec![0u8; packet.len() + 512];
    let data_size_in = u32::try_from(packet.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too large"))?;
    let mut attr = TestAttr {
        prog_fd: prog.as_raw_fd() as u32,
        data_size_in,
        data_size_out: out.len() as u32,
        data_in: packet.as_ptr() as u64,
        data_out: out.as_mut_ptr() as u64,
        repeat: repeat.max(1),
        ..TestAttr::default()
    };
    // SAFETY: `attr` is a properly initialised `bpf_attr` prefix for BPF_PROG_TEST_RUN, and
    // its size is passed along; `data_in` points at `packet.len()` readable bytes and
    // `data_out` at `out.len()` writable bytes, both alive for the whole call (the kernel
    // writes at most `data_size_out` bytes); `prog` is an open descriptor borrowed for the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_TEST_RUN,
            &mut attr as *mut TestAttr,
            std::mem::size_of::<TestAttr>() as libc::c_uint,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    out.truncate((attr.data_size_out as usize).min(out.len()));
    Ok(TestRun {
        retval: attr.retval,
        data: out,
        duration_ns: attr.duration,
    })
}

/// `BPF_MAP_UPDATE_ELEM` from `enum bpf_cmd`.
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
/// `BPF_MAP_LOOKUP_ELEM`.
const BPF_MAP_LOOKUP_ELEM: libc::c_long = 1;

/// The map element members of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct ElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

/// `BPF_ANY`: create or update.
pub const BPF_ANY: u64 = 0;
/// `BPF_NOEXIST`: create only.
pub const BPF_NOEXIST: u64 = 1;

fn elem_call(
    cmd: libc::c_long,
    map: BorrowedFd<'_>,
    key: &[u8],
    value: *mut u8,
    flags: u64,
) -> io::Result<()> {
    let mut attr = ElemAttr {
        map_fd: map.as_raw_fd() as u32,
        key: key.as_ptr() as u64,
        value: value as u64,
        flags,
        ..ElemAttr::default()
    };
    // SAFETY: `attr` is a valid `bpf_attr` prefix for the element commands and its size is
    // passed; the key and value pointers come from buffers that the (private) callers have
    // checked against the map's key and value sizes as the kernel reports them, so the kernel
    // reads or writes only inside them; both outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            &mut attr as *mut ElemAttr,
            std::mem::size_of::<ElemAttr>() as libc::c_uint,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `BPF_OBJ_GET_INFO_BY_FD`.
const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;

#[repr(C)]
#[derive(Default)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// The head of `struct bpf_map_info`.
#[repr(C)]
#[derive(Default)]
struct MapInfoHead {
    map_type: u32,
    id: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
}

/// A map's key and value sizes, as the kernel knows them.
pub fn map_sizes(map: BorrowedFd<'_>) -> io::Result<(u32, u32)> {
    let info = map_info(map)?;
    Ok((info.key_size, info.value_size))
}

/// A map's `BPF_MAP_TYPE_*`.
pub fn map_type(map: BorrowedFd<'_>) -> io::Result<u32> {
    Ok(map_info(map)?.map_type)
}

fn map_info(map: BorrowedFd<'_>) -> io::Result<MapInfoHead> {
    let mut info = MapInfoHead::default();
    let mut attr = InfoAttr {
        bpf_fd: map.as_raw_fd() as u32,
        info_len: std::mem::size_of::<MapInfoHead>() as u32,
        info: &mut info as *mut MapInfoHead as u64,
    };
    // SAFETY: `attr` is a valid `bpf_attr` prefix for BPF_OBJ_GET_INFO_BY_FD; `info` points at
    // `info_len` writable bytes that outlive the call (the kernel writes at most that many).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_OBJ_GET_INFO_BY_FD,
            &mut attr as *mut InfoAttr,
            std::mem::size_of::<InfoAttr>() as libc::c_uint,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(info)
}

/// Map types whose element reads and writes carry one value per CPU.
const PER_CPU_TYPES: [u32; 4] = [5, 6, 10, 21];

fn check_sizes(map: BorrowedFd<'_>, key: usize, value: usize) -> io::Result<()> {
    let (k, v) = map_sizes(map)?;
    if PER_CPU_TYPES.contains(&map_type(map)?) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "per-CPU maps are not handled here",
        ));
    }
    if key != k as usize || value != v as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("key/value of {key}/{value} bytes for a map of {k}/{v}"),
        ));
    }
    Ok(())
}

/// Writes one element of `map` (key and value must be the map's sizes exactly; per-CPU maps
/// are not handled).
pub fn map_update(map: BorrowedFd<'_>, key: &[u8], value: &[u8], flags: u64) -> io::Result<()> {
    check_sizes(map, key.len(), value.len())?;
    elem_call(
        BPF_MAP_UPDATE_ELEM,
        map,
        key,
        value.as_ptr() as *mut u8,
        flags,
    )
}

/// Reads one element of `map` (not per-CPU maps).
pub fn map_lookup(map: BorrowedFd<'_>, key: &[u8]) -> io::Result<Vec<u8>> {
    let (_, v) = map_sizes(map)?;
    let mut value = vec![0u8; v as usize];
    check_sizes(map, key.len(), value.len())?;
    elem_call(BPF_MAP_LOOKUP_ELEM, map, key, value.as_mut_ptr(), 0)?;
    Ok(value)
}

/// `BPF_MAP_DELETE_ELEM`.
const BPF_MAP_DELETE_ELEM: libc::c_long = 3;

/// Deletes one element of `map` (the key must be the map's key size).
pub fn map_delete(map: BorrowedFd<'_>, key: &[u8]) -> io::Result<()> {
    let (k, _) = map_sizes(map)?;
    if key.len() != k as usize {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "key size"));
    }
    elem_call(BPF_MAP_DELETE_ELEM, map, key, std::ptr::null_mut(), 0)
}

/// `BPF_MAP_GET_NEXT_KEY`.
const BPF_MAP_GET_NEXT_KEY: libc::c_long = 4;

/// The key after `key` in `map`'s iteration order (the first key when `key` is `None`), or
/// `None` at the end. How the control plane dumps a table: the kernel keeps no other index.
pub fn map_next_key(map: BorrowedFd<'_>, key: Option<&[u8]>) -> io::Result<Option<Vec<u8>>> {
    let (k, _) = map_sizes(map)?;
    if let Some(key) = key {
        if key.len() != k as usize {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "key size"));
        }
    }
    let mut next = vec![0u8; k as usize];
    let mut attr = ElemAttr {
        map_fd: map.as_raw_fd() as u32,
        key: key.map_or(0, |k| k.as_ptr() as u64),
        value: next.as_mut_ptr() as u64,
        ..ElemAttr::default()
    };
    // SAFETY: `attr` is a valid `bpf_attr` prefix for BPF_MAP_GET_NEXT_KEY (its `value` member
    // is `next_key`); `key` is null (first key) or points at the map's key size of readable
    // bytes, checked above, and `next` at as many writable bytes; both outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_MAP_GET_NEXT_KEY,
            &mut attr as *mut ElemAttr,
            std::mem::size_of::<ElemAttr>() as libc::c_uint,
        )
    };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::ENOENT) {
            Ok(None)
        } else {
            Err(e)
        };
    }
    Ok(Some(next))
}

/// The number of elements of `map` (by walking its keys; an array has all of its slots).
pub fn map_count(map: BorrowedFd<'_>) -> io::Result<usize> {
    let mut n = 0;
    let mut key = None;
    while let Some(next) = map_next_key(map, key.as_deref())? {
        n += 1;
        key = Some(next);
    }
    Ok(n)
}

/// Moves the calling thread (only it: `setns` acts per thread) into the network namespace
/// open at `netns` (e.g. `/var/run/netns/NAME`). The mount namespace stays, so bpffs paths
/// still reach the host's pins. Run it on a thread made for the purpose: the thread cannot
/// come back to its first namespace unless that one was opened beforehand.
pub fn enter_netns(netns: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: setns takes a descriptor (borrowed, open for the call) and a flag; it touches
    // no memory of ours.
    let rc = unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Every key of `map`. A map changed meanwhile (the datapath adding entries) may make the
/// kernel restart from the first key; keys are deduplicated so each is listed once.
pub fn map_keys(map: BorrowedFd<'_>) -> io::Result<Vec<Vec<u8>>> {
    let mut keys = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut at: Option<Vec<u8>> = None;
    while let Some(next) = map_next_key(map, at.as_deref())? {
        if !seen.insert(next.clone()) {
            break;
        }
        keys.push(next.clone());
        at = Some(next);
    }
    Ok(keys)
}

/// How many CPUs the kernel may ever bring up (`/sys/devices/system/cpu/possible`): per-CPU
/// maps hold that many values.
pub fn possible_cpus() -> io::Result<usize> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible")?;
    let mut n = 0usize;
    for part in text.trim().split(',') {
        let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("cpu list `{text}`"));
        let (lo, hi) = match part.split_once('-') {
            Some((lo, hi)) => (lo, hi),
            None => (part, part),
        };
        let lo: usize = lo.parse().map_err(|_| bad())?;
        let hi: usize = hi.parse().map_err(|_| bad())?;
        n = n.max(hi + 1).max(lo + 1);
    }
    Ok(n)
}

fn percpu_layout(map: BorrowedFd<'_>, key: usize) -> io::Result<(usize, usize)> {
    let info = map_info(map)?;
    if !PER_CPU_TYPES.contains(&info.map_type) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a per-CPU map",
        ));
    }
    if key != info.key_size as usize {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "key size"));
    }
    // The kernel lays each CPU's value out on 8-byte boundaries.
    let stride = (info.value_size as usize).div_ceil(8) * 8;
    Ok((stride, possible_cpus()?))
}

/// Reads one element of a per-CPU map: each CPU's value (`value_size` bytes), CPU 0 first.
pub fn map_lookup_percpu(map: BorrowedFd<'_>, key: &[u8]) -> io::Result<Vec<Vec<u8>>> {
    let (stride, cpus) = percpu_layout(map, key.len())?;
    let (_, v) = map_sizes(map)?;
    let mut all = vec![0u8; stride * cpus];
    elem_call(BPF_MAP_LOOKUP_ELEM, map, key, all.as_mut_ptr(), 0)?;
    Ok(all
        .chunks(stride)
        .map(|c| c[..v as usize].to_vec())
        .collect())
}

/// Writes one element of a per-CPU map: `value` (`value_size` bytes) on every CPU.
pub fn map_update_percpu_all(map: BorrowedFd<'_>, key: &[u8], value: &[u8]) -> io::Result<()> {
    let (stride, cpus) = percpu_layout(map, key.len())?;
    let (_, v) = map_sizes(map)?;
    if value.len() != v as usize {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "value size"));
    }
    let mut all = vec![0u8; stride * cpus];
    for c in all.chunks_mut(stride) {
        c[..value.len()].copy_from_slice(value);
    }
    elem_call(BPF_MAP_UPDATE_ELEM, map, key, all.as_mut_ptr(), BPF_ANY)
}

/// Writes one element of a per-CPU map with each CPU's own value (`values[cpu]`, each
/// `value_size` bytes; CPUs beyond `values` get zeros): how a reload carries counters over.
pub fn map_update_percpu(map: BorrowedFd<'_>, key: &[u8], values: &[Vec<u8>]) -> io::Result<()> {
    let (stride, cpus) = percpu_layout(map, key.len())?;
    let (_, v) = map_sizes(map)?;
    if values.len() > cpus || values.iter().any(|x| x.len() != v as usize) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "per-CPU values: count or size",
        ));
    }
    let mut all = vec![0u8; stride * cpus];
    for (c, value) in all.chunks_mut(stride).zip(values) {
        c[..value.len()].copy_from_slice(value);
    }
    elem_call(BPF_MAP_UPDATE_ELEM, map, key, all.as_mut_ptr(), BPF_ANY)
}

/// `BPF_EXIST`: update only.
pub const BPF_EXIST: u64 = 2;

/// Now on `CLOCK_MONOTONIC` in nanoseconds: the clock `bpf_ktime_get_ns` reads, so entry
/// times and meter states written from user space compare with the datapath's.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec that outlives the call; CLOCK_MONOTONIC
    // always exists on Linux, so the call cannot fail.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
}

/// A map descriptor with its key and value sizes and type, read once: a descriptor names one
/// map for its whole life, so they cannot change, and element calls need not ask the kernel
/// again (one `bpf(2)` call per element operation instead of three).
#[derive(Debug)]
pub struct SizedMap {
    fd: std::os::fd::OwnedFd,
    key_size: usize,
    value_size: usize,
    per_cpu: bool,
}

impl SizedMap {
    /// Reads the map's sizes and type.
    pub fn new(fd: std::os::fd::OwnedFd) -> io::Result<SizedMap> {
        use std::os::fd::AsFd;
        let info = map_info(fd.as_fd())?;
        Ok(SizedMap {
            key_size: info.key_size as usize,
            value_size: info.value_size as usize,
            per_cpu: PER_CPU_TYPES.contains(&info.map_type),
            fd,
        })
    }

    /// The descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.as_fd()
    }

    /// Key size in bytes.
    pub fn key_size(&self) -> usize {
        self.key_size
    }

    /// Value size in bytes (one CPU's, for a per-CPU map).
    pub fn value_size(&self) -> usize {
        self.value_size
    }

    fn check(&self, key: usize, value: Option<usize>) -> io::Result<()> {
        if self.per_cpu {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "per-CPU maps are not handled here",
            ));
        }
        if key != self.key_size || value.is_some_and(|v| v != self.value_size) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "key/value of {key}/{} bytes for a map of {}/{}",
                    value.unwrap_or(self.value_size),
                    self.key_size,
                    self.value_size
                ),
            ));
        }
        Ok(())
    }

    /// Writes one element (key and value of the map's sizes exactly).
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> io::Result<()> {
        self.check(key.len(), Some(value.len()))?;
        elem_call(
            BPF_MAP_UPDATE_ELEM,
            self.fd(),
            key,
            value.as_ptr() as *mut u8,
            flags,
        )
    }

    /// Reads one element.
    pub fn lookup(&self, key: &[u8]) -> io::Result<Vec<u8>> {
        let mut value = vec![0u8; self.value_size];
        self.check(key.len(), Some(value.len()))?;
        elem_call(BPF_MAP_LOOKUP_ELEM, self.fd(), key, value.as_mut_ptr(), 0)?;
        Ok(value)
    }

    /// Every element, key and value, by walking the keys ([`map_keys`]); an element that
    /// cannot be read (deleted meanwhile) is left out.
    pub fn elements(&self) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        for k in map_keys(self.fd())? {
            if let Ok(v) = self.lookup(&k) {
                out.push((k, v));
            }
        }
        Ok(out)
    }

    /// Deletes one element.
    pub fn delete(&self, key: &[u8]) -> io::Result<()> {
        self.check(key.len(), None)?;
        elem_call(BPF_MAP_DELETE_ELEM, self.fd(), key, std::ptr::null_mut(), 0)
    }
}

/// Set once SIGINT or SIGTERM has arrived, after [`catch_interrupts`].
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Makes SIGINT and SIGTERM set a flag instead of ending the process (for loops that end
/// cleanly, as `p4tc mon`'s); returns the flag.
pub fn catch_interrupts() -> &'static std::sync::atomic::AtomicBool {
    let handler = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores into an atomic, which is async-signal-safe; `signal`
    // has no other requirement.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
    &INTERRUPTED
}

/// A reader of a `BPF_MAP_TYPE_RINGBUF`, mapped as libbpf maps it: the consumer page
/// read-write, the producer page and the data (twice, so records never wrap) read-only.
///
/// aya 0.13.1's `RingBuf` assumes the consumer position starts at 0: on a ring another
/// process has read from (a pinned map), it reads past the producer and never stops. This
/// one starts from the kernel's positions.
pub struct RingReader {
    consumer: *mut u8,
    producer: *mut u8,
    page: usize,
    size: usize,
    _fd: std::os::fd::OwnedFd,
}

// SAFETY: the mappings belong to the reader alone; the pointers are not shared.
unsafe impl Send for RingReader {}

const RINGBUF_BUSY_BIT: u32 = 1 << 31;
const RINGBUF_DISCARD_BIT: u32 = 1 << 30;
const RINGBUF_HDR_SZ: usize = 8;

impl RingReader {
    /// Maps the ring buffer `fd`.
    pub fn new(fd: std::os::fd::OwnedFd) -> io::Result<RingReader> {
        use std::os::fd::AsFd as _;
        let size = map_info(fd.as_fd())?.max_entries as usize;
        let page = page_size()?;
        if size == 0 || !size.is_power_of_two() {
            return Err(io::Error::other(format!(
                "not a ring buffer of {size} bytes"
            )));
        }
        // The kernel lays a ring buffer out as one consumer page at offset 0, writable, then
        // the producer page and 2 x size of data at offset `page`, read-only.
        let consumer = map_shared(fd.as_raw_fd(), page, libc::PROT_READ | libc::PROT_WRITE, 0)?;
        let producer = map_shared(fd.as_raw_fd(), page + 2 * size, libc::PROT_READ, page);
        let producer = match producer {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: `consumer` is the mapping made above, of `page` bytes.
                unsafe { libc::munmap(consumer, page) };
                return Err(e);
            }
        };
        Ok(RingReader {
            consumer: consumer.cast(),
            producer: producer.cast(),
            page,
            size,
            _fd: fd,
        })
    }

    /// Every record waiting, oldest first (discarded ones skipped); stops at one being
    /// written.
    pub fn drain(&mut self) -> Vec<Vec<u8>> {
        use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
        // SAFETY: both positions are 8-byte aligned u64s at the start of their pages, which
        // stay mapped while `self` lives; the kernel and we access them atomically.
        let (cons, prod) = unsafe {
            (
                &*(self.consumer as *const AtomicU64),
                &*(self.producer as *const AtomicU64),
            )
        };
        let mut out = Vec::new();
        let mut pos = cons.load(Ordering::Acquire);
        let end = prod.load(Ordering::Acquire);
        let mask = (self.size - 1) as u64;
        while pos < end {
            let offset = self.page + (pos & mask) as usize;
            // SAFETY: `offset + 8 <= page + size` (headers are 8-aligned in the data), and the
            // data is mapped twice, so a record of at most `size` bytes is readable from there.
            let header = unsafe { &*(self.producer.add(offset) as *const AtomicU32) }
                .load(Ordering::Acquire);
            if header & RINGBUF_BUSY_BIT != 0 {
                break;
            }
            let len = (header & !(RINGBUF_BUSY_BIT | RINGBUF_DISCARD_BIT)) as usize;
            if len > self.size {
                break;
            }
            if header & RINGBUF_DISCARD_BIT == 0 {
                // SAFETY: as above: `len <= size` bytes after the header are mapped.
                let data = unsafe {
                    std::slice::from_raw_parts(self.producer.add(offset + RINGBUF_HDR_SZ), len)
                };
                out.push(data.to_vec());
            }
            pos += ((len + RINGBUF_HDR_SZ + 7) & !7) as u64;
            cons.store(pos, Ordering::Release);
        }
        out
    }
}

impl Drop for RingReader {
    fn drop(&mut self) {
        // SAFETY: the two mappings made in `new`, with their sizes.
        unsafe {
            libc::munmap(self.consumer.cast(), self.page);
            libc::munmap(self.producer.cast(), self.page + 2 * self.size);
        }
    }
}

/// `BPF_MAP_CREATE`.
const BPF_MAP_CREATE: libc::c_long = 0;
/// `BPF_PROG_LOAD`.
const BPF_PROG_LOAD: libc::c_long = 5;
/// `BPF_MAP_UPDATE_BATCH`.
const BPF_MAP_UPDATE_BATCH: libc::c_long = 26;

/// `BPF_MAP_TYPE_ARRAY`.
pub const MAP_TYPE_ARRAY: u32 = 2;
/// `BPF_MAP_TYPE_HASH`.
pub const MAP_TYPE_HASH: u32 = 1;
/// `BPF_MAP_TYPE_LPM_TRIE`.
pub const MAP_TYPE_LPM_TRIE: u32 = 11;
/// `BPF_F_MMAPABLE`: an array user space may map.
pub const BPF_F_MMAPABLE: u32 = 1 << 10;
/// `BPF_F_NO_PREALLOC`.
pub const BPF_F_NO_PREALLOC: u32 = 1;
/// `BPF_PROG_TYPE_SYSCALL`.
pub const PROG_TYPE_SYSCALL: u32 = 31;
/// `BPF_F_SLEEPABLE` (program load flag; syscall programs must be sleepable).
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;

/// The `map_create` member of `union bpf_attr`, up to the name.
#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
    _pad: u32,
}

fn bpf_call<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: every caller passes the `bpf_attr` member its command reads, fully initialised,
    // with its size; the pointers inside it are the callers' (each says why they are valid).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn owned_fd(rc: libc::c_long) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd as _;
    let fd = libc::c_int::try_from(rc).map_err(|_| io::Error::other("descriptor out of range"))?;
    // SAFETY: the kernel just returned `fd` as a new descriptor that nothing else owns.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// Creates a map of this process (named `name`, at most 15 bytes kept).
pub fn map_create(
    name: &str,
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
) -> io::Result<std::os::fd::OwnedFd> {
    let mut attr = MapCreateAttr {
        map_type,
        key_size,
        value_size,
        max_entries,
        map_flags,
        ..MapCreateAttr::default()
    };
    for (d, s) in attr.map_name.iter_mut().take(15).zip(name.bytes()) {
        *d = s;
    }
    // No pointers in this attr.
    owned_fd(bpf_call(BPF_MAP_CREATE, &mut attr)?)
}

/// The `prog_load` member of `union bpf_attr`, up to `expected_attach_type`.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
}

/// `BPF_BTF_LOAD`.
const BPF_BTF_LOAD: libc::c_long = 18;

#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    _pad: u32,
}

/// Loads a BTF blob (type information: programs with subprograms need their functions
/// described).
pub fn btf_load(blob: &[u8]) -> io::Result<std::os::fd::OwnedFd> {
    let mut attr = BtfLoadAttr {
        btf: blob.as_ptr() as u64,
        btf_size: u32::try_from(blob.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "BTF too large"))?,
        ..BtfLoadAttr::default()
    };
    // `btf` points at `btf_size` readable bytes alive for the call; no log.
    owned_fd(bpf_call(BPF_BTF_LOAD, &mut attr)?)
}

/// A program's functions as BTF describes them: the BTF object and `struct bpf_func_info`
/// records (instruction offset, FUNC type id), one per function, the main one first.
pub struct FuncInfo<'a> {
    /// The loaded BTF.
    pub btf: BorrowedFd<'a>,
    /// Pairs of (instruction index, type id).
    pub funcs: &'a [(u32, u32)],
}

/// Why the kernel refused a program: its errno and the verifier's log.
#[derive(Debug)]
pub struct ProgLoadError {
    /// The error `bpf(2)` returned.
    pub error: io::Error,
    /// The verifier's log (its last lines are the reason).
    pub log: String,
}

impl std::fmt::Display for ProgLoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail: Vec<&str> = self.log.trim_end().lines().rev().take(3).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        write!(f, "{}", self.error)?;
        if !tail.is_empty() {
            write!(f, " (verifier: {})", tail.join(" | "))?;
        }
        Ok(())
    }
}

/// Loads raw BPF instructions (8 bytes each, as `struct bpf_insn`) as a program of
/// `prog_type` with `prog_flags`, GPL-licensed (the helpers it may call need it). Map
/// descriptors named in its `ld_imm64` instructions must be open for the call.
pub fn prog_load(
    name: &str,
    prog_type: u32,
    prog_flags: u32,
    insns: &[u8],
    funcs: Option<&FuncInfo<'_>>,
) -> Result<std::os::fd::OwnedFd, ProgLoadError> {
    let bad = |m: &str| ProgLoadError {
        error: io::Error::new(io::ErrorKind::InvalidInput, m.to_string()),
        log: String::new(),
    };
    if insns.is_empty() || insns.len() % 8 != 0 {
        return Err(bad("instructions are 8 bytes each"));
    }
    let insn_cnt = u32::try_from(insns.len() / 8).map_err(|_| bad("too many instructions"))?;
    let license = b"GPL\0";
    let mut log = vec![0u8; 64 * 1024];
    let mut attr = ProgLoadAttr {
        prog_type,
        insn_cnt,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 1,
        log_size: log.len() as u32,
        log_buf: log.as_mut_ptr() as u64,
        prog_flags,
        ..ProgLoadAttr::default()
    };
    for (d, s) in attr.prog_name.iter_mut().take(15).zip(name.bytes()) {
        *d = s;
    }
    let records: Vec<u32> = funcs
        .map(|f| f.funcs.iter().flat_map(|&(i, t)| [i, t]).collect())
        .unwrap_or_default();
    if let Some(f) = funcs {
        attr.prog_btf_fd = f.btf.as_raw_fd() as u32;
        attr.func_info_rec_size = 8;
        attr.func_info = records.as_ptr() as u64;
        attr.func_info_cnt = f.funcs.len() as u32;
    }
    // The pointers: `func_info` (func_info_cnt x 8 readable bytes, in `records`), `insns` (insn_cnt x 8 readable bytes), the NUL-terminated license and the
    // log buffer (log_size writable bytes), all alive for the call.
    match bpf_call(BPF_PROG_LOAD, &mut attr) {
        Ok(rc) => owned_fd(rc).map_err(|error| ProgLoadError {
            error,
            log: String::new(),
        }),
        Err(error) => {
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            Err(ProgLoadError {
                error,
                log: String::from_utf8_lossy(&log[..end]).into_owned(),
            })
        }
    }
}

/// Runs a `BPF_PROG_TYPE_SYSCALL` program once with `ctx` as its context (the kernel copies
/// it in and back out); returns the program's return value.
pub fn run_syscall_prog(prog: BorrowedFd<'_>, ctx: &mut [u8]) -> io::Result<u32> {
    let ctx_size = u32::try_from(ctx.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "context too large"))?;
    let mut attr = TestAttr {
        prog_fd: prog.as_raw_fd() as u32,
        ctx_in: ctx.as_ptr() as u64,
        ctx_size_in: ctx_size,
        ..TestAttr::default()
    };
    // `ctx_in` points at `ctx_size_in` bytes, alive for the call. The kernel copies the
    // context back only through `ctx_out`, which is null here: the context is input only.
    bpf_call(BPF_PROG_TEST_RUN, &mut attr)?;
    Ok(attr.retval)
}

/// The `batch` member of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct BatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
    flags: u64,
}

/// `BPF_MAP_UPDATE_BATCH`: writes `keys.len() / key_size` elements (keys and values packed
/// back to back, exactly the map's sizes), each as `BPF_ANY` would (the kernel takes no
/// per-element `BPF_NOEXIST` here: callers that create must know the keys are new). The
/// kernel stops at the first element it refuses: returns how many it wrote, and the error of
/// the next one, if any.
pub fn map_update_batch(map: &SizedMap, keys: &[u8], values: &[u8]) -> (usize, Option<io::Error>) {
    let (ks, vs) = (map.key_size.max(1), map.value_size.max(1));
    let n = keys.len() / ks;
    if map.per_cpu || keys.len() % ks != 0 || values.len() != n * vs {
        return (
            0,
            Some(io::Error::new(
                io::ErrorKind::InvalidInput,
                "batch: key and value sizes",
            )),
        );
    }
    let Ok(count) = u32::try_from(n) else {
        return (
            0,
            Some(io::Error::new(io::ErrorKind::InvalidInput, "batch too big")),
        );
    };
    if n == 0 {
        return (0, None);
    }
    let mut attr = BatchAttr {
        keys: keys.as_ptr() as u64,
        values: values.as_ptr() as u64,
        count,
        map_fd: map.fd().as_raw_fd() as u32,
        ..BatchAttr::default()
    };
    // `keys` and `values` hold `count` elements of the map's sizes (checked above) and
    // outlive the call; the kernel writes back only `count`.
    match bpf_call(BPF_MAP_UPDATE_BATCH, &mut attr) {
        Ok(_) => (n, None),
        // The kernel writes `count` back once it has started on the elements; an error
        // before that leaves it as it was (all n), and then nothing was written.
        Err(e) if attr.count as usize >= n => (0, Some(e)),
        Err(e) => (attr.count as usize, Some(e)),
    }
}

/// The system's page size (what mappings are made of).
fn page_size() -> io::Result<usize> {
    // SAFETY: sysconf has no preconditions.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
        .map_err(|_| io::Error::other("no page size"))
}

/// Maps the data of the `BPF_F_MMAPABLE` array `fd` (`bytes` of elements) shared, readable
/// and writable: the address and the length mapped (whole pages), for `munmap`.
fn map_array_data(fd: std::os::fd::RawFd, bytes: usize) -> io::Result<(*mut u8, usize)> {
    let page = page_size()?;
    // The kernel lays a BPF_F_MMAPABLE array's data out from offset 0, in whole pages.
    let len = bytes.div_ceil(page) * page;
    let ptr = map_shared(fd, len, libc::PROT_READ | libc::PROT_WRITE, 0)?;
    Ok((ptr.cast(), len))
}

/// A new shared mapping of `len` bytes of `fd` from `offset`, with protection `prot`
/// (`libc::PROT_*`): its address, to `munmap` with `len`.
fn map_shared(
    fd: std::os::fd::RawFd,
    len: usize,
    prot: libc::c_int,
    offset: usize,
) -> io::Result<*mut libc::c_void> {
    let offset = libc::off_t::try_from(offset).map_err(|_| io::Error::other("offset too large"))?;
    // SAFETY: a new mapping at an address the kernel picks touches no memory Rust knows
    // of; the caller owns the result, which is checked here.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            prot,
            libc::MAP_SHARED,
            fd,
            offset,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(ptr)
}

/// A `BPF_F_MMAPABLE` array mapped into this process, read and written in place: how the
/// control plane hands many records to a program in one call.
pub struct MappedArray {
    ptr: *mut u8,
    len: usize,
    fd: std::os::fd::OwnedFd,
}

// SAFETY: the mapping belongs to this value alone; the pointer is not shared.
unsafe impl Send for MappedArray {}

impl MappedArray {
    /// Creates an mmap-able array of `max_entries` elements of `value_size` bytes and maps
    /// it (elements lie `value_size` rounded up to 8 apart).
    pub fn create(name: &str, value_size: u32, max_entries: u32) -> io::Result<MappedArray> {
        let fd = map_create(
            name,
            MAP_TYPE_ARRAY,
            4,
            value_size,
            max_entries,
            BPF_F_MMAPABLE,
        )?;
        let stride = (value_size as usize).div_ceil(8) * 8;
        let (ptr, len) = map_array_data(fd.as_raw_fd(), stride * max_entries as usize)?;
        Ok(MappedArray { ptr, len, fd })
    }

    /// The map's descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.as_fd()
    }

    /// The elements' bytes. Programs that write them run only inside `bpf(2)` calls this
    /// process makes, so no one else changes them while the slice is borrowed.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: `ptr` is a live mapping of `len` bytes, readable and writable, owned by
        // `self`; the `&mut self` borrow keeps it exclusive in this process.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for MappedArray {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `create`, with its length.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

/// A `BPF_F_MMAPABLE` array of a loaded program (an exact table kept as open addressing,
/// [`crate::open_table`]) mapped into this process. Its programs read and write the same
/// memory at the same time, so it is only ever seen as atomic words, never as plain bytes.
pub struct SharedWords {
    ptr: *mut u8,
    len: usize,
    words: usize,
}

// SAFETY: the mapping is shared memory accessed only through atomics; the pointer stays
// valid until drop, whichever thread holds or drops the value.
unsafe impl Send for SharedWords {}
// SAFETY: as above: every access goes through `&[AtomicU64]`.
unsafe impl Sync for SharedWords {}

impl SharedWords {
    /// Maps the array `map` (`max_entries` elements of `value_size` bytes, a multiple of 8,
    /// `BPF_F_MMAPABLE`): all of it, as words.
    pub fn map(map: BorrowedFd<'_>) -> io::Result<SharedWords> {
        let info = map_info(map)?;
        if info.map_type != MAP_TYPE_ARRAY || info.map_flags & BPF_F_MMAPABLE == 0 {
            return Err(io::Error::other(
                "not an mmap-able array (an open-addressing table)",
            ));
        }
        if info.value_size % 8 != 0 {
            return Err(io::Error::other(format!(
                "an element of {} bytes, not a whole number of words",
                info.value_size
            )));
        }
        let bytes = info.value_size as usize * info.max_entries as usize;
        let (ptr, len) = map_array_data(map.as_raw_fd(), bytes)?;
        Ok(SharedWords {
            ptr,
            len,
            words: bytes / 8,
        })
    }

    /// The array's elements as words (element i of `value_size` bytes starts at word
    /// `i * value_size / 8`).
    pub fn words(&self) -> &[std::sync::atomic::AtomicU64] {
        // SAFETY: `ptr` is a live, page-aligned (so 8-aligned) mapping of `len >= words * 8`
        // bytes, readable and writable, until `self` drops; AtomicU64 has u64's layout, and
        // the shared memory is only ever accessed atomically here (the kernel's side uses
        // aligned 8-byte loads, stores and atomics).
        unsafe {
            std::slice::from_raw_parts(self.ptr as *const std::sync::atomic::AtomicU64, self.words)
        }
    }
}

impl std::fmt::Debug for SharedWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedWords({} words)", self.words)
    }
}

impl Drop for SharedWords {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, with its length.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}
