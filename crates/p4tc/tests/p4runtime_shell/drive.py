"""Drives `p4tc serve` with p4runtime-shell, the P4Runtime client from PyPI, and checks
the kernel datapath after each write with real frames.

Run by crates/p4tc/tests/p4runtime_shell.rs, which starts `p4tc serve --dev ma --netns M`
and the namespaces: frames are sent on `va` (namespace A, into the pipeline on `ma`) and
caught on `vb` (namespace B, behind `mb`). kinds.p4 has one table per match kind; each
picks the output port by one IPv4 field, so a probe frame built to hit one entry shows
whether that entry is there and what port it has.

Every check sends [probe, sentinel]: the sentinel hits a fixed entry that forwards to `mb`,
so once it arrives at `vb` the probe has had its chance; no timing guesses.

Usage (all arguments by name):
  python3 drive.py --grpc ADDR --p4info F --config F --p4tc BIN --pipeline NAME
                   --ns-a A --ns-b B --out IFINDEX --back IFINDEX
Prints one line per step; exits 1 with the reason on the first failure.
"""

import argparse
import os
import socket
import struct
import subprocess
import sys
import time
import json

RECEIVER = r"""
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.settimeout(0.1)
marker, last = bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
print("ready", flush=True)
end = time.time() + 5.0
while time.time() < end:
    try:
        f = s.recv(4096)
    except socket.timeout:
        continue
    if marker in f:
        print(f.hex(), flush=True)
        if last in f:
            break
"""

SENDER = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for h in sys.argv[2:]:
    s.send(bytes.fromhex(h))
"""

MARKER = b"p4rtSH"
counter = [0]


def frame(dst="10.9.9.9", src="192.168.0.1", diffserv=0, ident=0, ttl=64):
    """An Ethernet+IPv4 frame with a unique tag after the marker; returns (frame, tag)."""
    counter[0] += 1
    tag = struct.pack("!H", counter[0])
    payload = MARKER + tag
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        diffserv,
        20 + len(payload),
        ident,
        0,
        ttl,
        17,
        0,
        socket.inet_aton(src),
        socket.inet_aton(dst),
    )
    s = sum(struct.unpack("!10H", ip))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    ip = ip[:10] + struct.pack("!H", ~s & 0xFFFF) + ip[12:]
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    return eth + ip + payload, payload


class Lab:
    def __init__(self, args):
        self.a, self.b = args.ns_a, args.ns_b

    def arrives(self, probe):
        """Whether `probe` comes out on vb (sent with the sentinel after it)."""
        p, ptag = probe
        s, stag = frame(dst=SENTINEL)
        rx = subprocess.Popen(
            ["ip", "netns", "exec", self.b, "python3", "-c", RECEIVER, "vb", MARKER.hex(), stag.hex()],
            stdout=subprocess.PIPE,
            text=True,
        )
        if rx.stdout.readline().strip() != "ready":
            fail("the receiver did not start")
        subprocess.run(
            ["ip", "netns", "exec", self.a, "python3", "-c", SENDER, "va", p.hex(), s.hex()],
            check=True,
        )
        out, _ = rx.communicate(timeout=10)
        caught = [bytes.fromhex(l) for l in out.split()]
        if not any(stag in f for f in caught):
            fail("the sentinel frame did not arrive: the datapath is not forwarding at all")
        return any(ptag in f for f in caught)


def fail(why):
    print("FAIL:", why, flush=True)
    # Not sys.exit: p4runtime-shell's stream thread would keep the process alive.
    os._exit(1)


def step(what):
    print("ok:", what, flush=True)


SENTINEL = "10.0.0.100"


def main():
    ap = argparse.ArgumentParser()
    for name in ["grpc", "p4info", "config", "p4tc", "pipeline", "ns-a", "ns-b"]:
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--out", type=int, required=True)
    ap.add_argument("--back", type=int, required=True)
    args = ap.parse_args()

    import p4runtime_sh.shell as sh
    from p4runtime_sh.p4runtime import P4RuntimeWriteException

    sh.setup(
        device_id=1,
        grpc_addr=args.grpc,
        election_id=(0, 1),
        config=sh.FwdPipeConfig(args.p4info, args.config),
    )
    step("set the pipeline (VERIFY_AND_COMMIT) with p4runtime-shell")
    lab = Lab(args)
    out, back = str(args.out), str(args.back)

    te = sh.TableEntry("exact_t")(action="fwd_counted")
    te.match["dstAddr"] = SENTINEL
    te.action["port"] = out
    te.insert()
    if lab.arrives(frame(dst="10.9.9.9")):
        fail("a frame no entry matches was forwarded")
    step("sentinel entry forwards, a frame no entry matches is dropped")

    kinds = [
        ("exact_t", "fwd_counted", "dstAddr", "10.0.0.2", None, dict(dst="10.0.0.2")),
        ("lpm_t", "fwd", "srcAddr", "10.1.0.0/16", None, dict(src="10.1.2.3")),
        ("ternary_t", "fwd", "diffserv", "0x20&&&0xf0", 10, dict(diffserv=0x28)),
        ("range_t", "fwd", "identification", "0x100..0x200", 10, dict(ident=0x150)),
        ("optional_t", "fwd", "ttl", "33", 10, dict(ttl=33)),
    ]
    for table, action, field, value, prio, probe in kinds:
        def make(port):
            e = sh.TableEntry(table)(action=action)
            e.match[field] = value
            e.action["port"] = port
            if prio is not None:
                e.priority = prio
            return e

        if lab.arrives(frame(**probe)):
            fail(f"{table}: the probe is forwarded before any entry")
        make(out).insert()
        if not lab.arrives(frame(**probe)):
            fail(f"{table}: after INSERT the probe does not arrive")
        try:
            make(out).insert()
            fail(f"{table}: a second INSERT of the same key was accepted")
        except P4RuntimeWriteException as e:
            if "ALREADY_EXISTS" not in str(e):
                fail(f"{table}: duplicate INSERT: {e}")
        entries = mine(sh.TableEntry(table).read())
        if len(entries) != 1 or entries[0].action["port"].value != out_bytes(out):
            fail(f"{table}: READ gave {[str(e) for e in entries]}")
        step(f"{table}: INSERT forwards the probe, duplicate refused, READ shows it")
        make(back).modify()
        if lab.arrives(frame(**probe)):
            fail(f"{table}: after MODIFY to another port the probe still arrives")
        entries = mine(sh.TableEntry(table).read())
        if len(entries) != 1 or entries[0].action["port"].value != out_bytes(back):
            fail(f"{table}: READ after MODIFY gave {[str(e) for e in entries]}")
        make(back).delete()
        if mine(sh.TableEntry(table).read()):
            fail(f"{table}: entries left after DELETE")
        if lab.arrives(frame(**probe)):
            fail(f"{table}: after DELETE the probe still arrives")
        step(f"{table}: MODIFY moves the probe away, DELETE removes the entry")

    # Counters: the sentinel's frames went out of port `out`.
    c = sh.CounterEntry("port_stats")
    c.index = args.out & 63
    got = list(c.read())
    if not got or got[0].data.packet_count < 1 or got[0].data.byte_count < 1:
        fail(f"port_stats[{args.out & 63}] = {got}")
    step(f"counter port_stats[{args.out & 63}]: {got[0].data.packet_count} packets")
    d = sh.DirectCounterEntry("exact_hits")
    d.table_entry.match["dstAddr"] = SENTINEL
    got = list(d.read())
    if not got or got[0].data.packet_count < 1:
        fail(f"direct counter of the sentinel entry = {got}")
    step(f"direct counter of the sentinel entry: {got[0].data.packet_count} packets")

    # The same object model as p4tc ctl: each sees the other's entries.
    ctl = [args.p4tc, "ctl", "create", f"{args.pipeline}/table/ingress/exact_t",
           "dstAddr", "0x0a000007", "action", "fwd_counted", "param", "port", "mb"]
    r = subprocess.run(ctl, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"p4tc ctl create: {r.stderr}")
    seen = [e for e in sh.TableEntry("exact_t").read() if e.match["dstAddr"].exact.value == socket.inet_aton("10.0.0.7")]
    if len(seen) != 1:
        fail("the entry p4tc ctl created is not read over P4Runtime")
    if not lab.arrives(frame(dst="10.0.0.7")):
        fail("the entry p4tc ctl created does not forward")
    te = sh.TableEntry("exact_t")(action="fwd_counted")
    te.match["dstAddr"] = "10.0.0.8"
    te.action["port"] = out
    te.insert()
    r = subprocess.run([args.p4tc, "ctl", "-j", "get", f"{args.pipeline}/table/ingress/exact_t", "dstAddr", "0x0a000008"],
                       capture_output=True, text=True)
    if r.returncode != 0 or "fwd_counted" not in r.stdout:
        fail(f"p4tc ctl does not see the entry written over P4Runtime: {r.stdout} {r.stderr}")
    step("p4tc ctl and P4Runtime see each other's entries")

    # Idle timeout: the kernel's aging sweep removes the entry and the primary hears of it.
    te = sh.TableEntry("exact_t")(action="fwd_counted")
    te.match["dstAddr"] = "10.0.0.9"
    te.action["port"] = out
    te.idle_timeout_ns = 300_000_000
    te.insert()
    started = time.time()
    if not lab.arrives(frame(dst="10.0.0.9")):
        fail("the entry with an idle timeout does not forward")
    note = sh.client.get_stream_packet("idle_timeout_notification", timeout=10)
    if note is None:
        fail("no idle-timeout notification within 10 s")
    entries = note.idle_timeout_notification.table_entry
    if len(entries) != 1 or entries[0].match[0].exact.value != socket.inet_aton("10.0.0.9"):
        fail(f"idle-timeout notification for the wrong entries: {note}")
    if lab.arrives(frame(dst="10.0.0.9")):
        fail("the aged-out entry still forwards")
    step(f"idle timeout: notification after {time.time() - started:.1f} s, entry gone")
    sh.teardown()
    print("done", flush=True)
    os._exit(0)


def mine(entries):
    """The entries read, less the sentinel."""
    sentinel = socket.inet_aton(SENTINEL)
    return [
        e for e in entries
        if not (e.name.endswith("exact_t") and e.match["dstAddr"].exact.value == sentinel)
    ]


def out_bytes(port):
    v = int(port)
    return v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")


if __name__ == "__main__":
    main()
