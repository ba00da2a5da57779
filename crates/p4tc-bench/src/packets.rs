//! Packets the cases send: well-formed Ethernet/IPv4 frames with valid checksums.

/// An Ethernet frame: `dst`, `src`, `ethertype`, then `payload`.
pub fn ethernet(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(14 + payload.len());
    p.extend_from_slice(&dst);
    p.extend_from_slice(&src);
    p.extend_from_slice(&ethertype.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// A 20-byte IPv4 header (TTL 64, checksum filled in) followed by `payload`.
pub fn ipv4(src: [u8; 4], dst: [u8; 4], protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap_or(u16::MAX);
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 1, 0x40, 0, 64, protocol, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let sum = checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// An 8-byte UDP header (checksum 0: none) followed by `payload`.
pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&len.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// A minimum-size Ethernet/IPv4/UDP frame from `src` to `dst`: 60 bytes here, 64 on the
/// wire with the FCS (the usual packet-rate benchmark).
pub fn ipv4_udp_64(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
    let udp = udp(1234, 5678, &[0u8; 18]);
    let ip = ipv4(src, dst, 17, &udp);
    ethernet([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x0800, &ip)
}

/// The internet checksum of `bytes`.
pub fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// `count` indices spread evenly over `0..entries` (all of them when `count >= entries`):
/// which entries the packets of a uniform cycle hit.
pub fn spread(entries: usize, count: usize) -> Vec<usize> {
    if entries == 0 {
        return Vec::new();
    }
    if count >= entries {
        return (0..entries).collect();
    }
    (0..count).map(|i| i * entries / count).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ipv4_checksum_verifies() {
        let p = ipv4_udp_64([10, 0, 0, 1], [10, 0, 1, 2]);
        assert_eq!(p.len(), 60);
        assert_eq!(checksum(&p[14..34]), 0, "a valid header sums to zero");
        assert_eq!(&p[30..34], &[10, 0, 1, 2]);
    }

    #[test]
    fn spread_is_even_and_in_range() {
        assert_eq!(spread(10, 5), vec![0, 2, 4, 6, 8]);
        assert_eq!(spread(3, 5), vec![0, 1, 2]);
        assert!(spread(1_000_000, 4096).iter().all(|&i| i < 1_000_000));
    }
}
