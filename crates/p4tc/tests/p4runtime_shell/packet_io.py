"""PacketOut and PacketIn through `p4tc serve` with p4runtime-shell, on the kernel datapath.

Run by crates/p4tc/tests/p4runtime_shell.rs (p4runtime_shell_packet_out_and_packet_in_...),
which starts `p4tc serve --dev ma --netns M` with namespaces A (`va`) and B (`vb`) on the
two sides. The program (crates/p4tc-p4runtime/tests/packet_io/packet_io.p4) sends every
packet its table does not match to the CPU port.

Usage (all arguments by name):
  python3 packet_io.py --grpc ADDR --p4info F --config F --ns-a A --ns-b B
                       --out IFINDEX_OF_mb --ingress IFINDEX_OF_ma
Prints one line per step; exits 1 with the reason on the first failure.
"""

import argparse
import subprocess
import sys
import time

import p4runtime_sh.shell as sh

RECEIVER = r"""
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.settimeout(0.1)
marker = bytes.fromhex(sys.argv[2])
print("ready", flush=True)
end = time.time() + 5.0
while time.time() < end:
    try:
        f = s.recv(4096)
    except socket.timeout:
        continue
    if marker in f:
        print(f.hex(), flush=True)
        break
"""

SENDER = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
s.send(bytes.fromhex(sys.argv[2]))
"""


def fail(why):
    print(f"FAIL: {why}", flush=True)
    sys.exit(1)


def frame(tag):
    """Broadcast, a local source, EtherType 0x88b5 (local experimental), a tagged payload."""
    return bytes.fromhex("ffffffffffff" "020000000001" "88b5") + b"p4tcIO" + tag + bytes(40)


def main():
    ap = argparse.ArgumentParser()
    for a in ["--grpc", "--p4info", "--config", "--ns-a", "--ns-b", "--out", "--ingress"]:
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    sh.setup(device_id=1, grpc_addr=args.grpc, election_id=(0, 1),
             config=sh.FwdPipeConfig(args.p4info, args.config))
    print("ok: pipeline set", flush=True)

    # PacketOut: out of mb, caught on vb in namespace B.
    out = frame(b"-out-")
    rx = subprocess.Popen(["ip", "netns", "exec", args.ns_b, "python3", "-c", RECEIVER,
                           "vb", b"p4tcIO-out-".hex()],
                          stdout=subprocess.PIPE, text=True)
    if rx.stdout.readline().strip() != "ready":
        fail("the receiver did not start")
    p = sh.PacketOut(payload=out)
    p.metadata["egress_port"] = args.out
    p.send()
    got = rx.stdout.readline().strip()
    rx.wait()
    if bytes.fromhex(got or "") != out:
        fail(f"PacketOut did not arrive on vb as sent: got {got!r}")
    print("ok: PacketOut left by mb", flush=True)

    # A port no interface has: a stream error NOT_FOUND (5) naming it, the packet given back.
    p = sh.PacketOut(payload=out)
    p.metadata["egress_port"] = str(0x7ffffff0)
    p.send()
    err = sh.client.get_stream_packet("unknown", timeout=3)
    if err is None or not err.HasField("error"):
        fail(f"no stream error for a PacketOut to a missing port: {err}")
    e = err.error
    if e.canonical_code != 5 or str(0x7ffffff0) not in e.message \
            or e.packet_out.packet_out.payload != out:
        fail(f"unexpected stream error: {e}")
    print("ok: PacketOut to a missing port: NOT_FOUND", flush=True)

    # PacketIn: a frame into the pipeline on ma goes to the CPU port, then to us.
    packet_in = sh.PacketIn()
    sent = frame(b"-in-")
    subprocess.run(["ip", "netns", "exec", args.ns_a, "python3", "-c", SENDER, "va", sent.hex()],
                   check=True)
    # Short sniffs until it is there (a sniff waits its whole timeout), 3 s at most.
    mine = []
    end = time.time() + 3.0
    while not mine and time.time() < end:
        mine = [m for m in packet_in.sniff(timeout=0.1) if b"p4tcIO-in-" in m.packet.payload]
    if len(mine) != 1:
        fail(f"expected one PacketIn of the frame, got {len(mine)}")
    pkt = mine[0].packet
    if pkt.payload != sent:
        fail(f"PacketIn payload differs: {pkt.payload.hex()} vs {sent.hex()}")
    print("ok: PacketIn carries the frame", flush=True)
    ports = [int.from_bytes(m.value, "big") for m in pkt.metadata]
    if ports != [int(args.ingress)]:
        fail(f"PacketIn metadata {ports}, expected ingress_port {args.ingress}")
    print("ok: PacketIn ingress_port is ma", flush=True)
    sh.teardown()
    print("done", flush=True)


if __name__ == "__main__":
    main()
