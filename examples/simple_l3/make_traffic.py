#!/usr/bin/env python3
"""Writes examples/simple_l3/traffic.pcap, the capture the demo runs through simple_l3.

Six Ethernet frames, one second apart: UDP to 10.0.1.2 (hits the first entry of
simple_l3.entries), to 10.0.2.2 (the second), to 10.0.1.2 again, to 10.0.9.9 (a miss:
dropped), an ARP request (not IPv4: dropped) and an IPv4 frame cut off after 7 bytes of its
header (the parser reports PacketTooShort; the control drops it).
"""
import struct
import sys


def checksum(data: bytes) -> int:
    """RFC 1071 ones' complement sum."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mac(text: str) -> bytes:
    return bytes(int(x, 16) for x in text.split(":"))


def ipv4_addr(text: str) -> bytes:
    return bytes(int(x) for x in text.split("."))


def ethernet(dst: str, src: str, ethertype: int) -> bytes:
    return mac(dst) + mac(src) + struct.pack("!H", ethertype)


def ipv4(src: str, dst: str, payload: bytes, ident: int) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, 17, 0,
                         ipv4_addr(src), ipv4_addr(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def main() -> None:
    frames = []
    for i, dst in enumerate(["10.0.1.2", "10.0.2.2", "10.0.1.2", "10.0.9.9"]):
        frames.append(ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800)
                      + ipv4("10.0.0.1", dst, udp(1000 + i, 53, b"hello p4tc"), i + 1))
    frames.append(ethernet("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:02", 0x0806) + bytes(28))
    frames.append(ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x0800) + bytes(7))
    out = sys.argv[1] if len(sys.argv) > 1 else "traffic.pcap"
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)))
            f.write(frame)


if __name__ == "__main__":
    main()
