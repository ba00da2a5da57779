//! Reading input packets for `p4tc run` from pcap and pcapng files.
//!
//! Only Ethernet captures are accepted (the pipeline's parser starts at the Ethernet header).
//! A pcapng file's packets carry the interface they were captured on: interface `i` (the
//! `i`-th interface description block of its section, from 0) is input port `i`, unless the
//! user gives one port for every packet. Timestamps are read with the interface's `if_tsresol`
//! (microseconds by default), so replays age entries as the capture did.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;

/// One packet to run.
pub struct InputPacket {
    /// When it was captured.
    pub timestamp: Duration,
    /// The input port.
    pub port: u32,
    /// The frame, from the Ethernet header on.
    pub data: Vec<u8>,
}

/// The packets of `path`, in file order. `port` overrides the input port of every packet;
/// without it a pcap's packets come in on port 0 and a pcapng's on their interface's index.
pub fn read(path: &Path, port: Option<u32>) -> anyhow::Result<Vec<InputPacket>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.display();
    let magic = bytes
        .get(..4)
        .map(|m| u32::from_be_bytes([m[0], m[1], m[2], m[3]]));
    match magic {
        // pcap: microsecond or nanosecond timestamps, either byte order.
        Some(0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1) => {
            read_pcap(&bytes, port.unwrap_or(0)).with_context(|| format!("{name}: bad pcap file"))
        }
        // pcapng: a section header block first.
        Some(0x0a0d_0d0a) => {
            read_pcapng(&bytes, port).with_context(|| format!("{name}: bad pcapng file"))
        }
        Some(other) => anyhow::bail!(
            "{name}: not a pcap or pcapng file (it starts with {other:#010x}; a pcap starts \
             with a1b2c3d4, a pcapng with 0a0d0d0a)"
        ),
        None => anyhow::bail!(
            "{name}: not a pcap or pcapng file (only {} bytes long)",
            bytes.len()
        ),
    }
}

fn read_pcap(bytes: &[u8], port: u32) -> anyhow::Result<Vec<InputPacket>> {
    let mut reader = PcapReader::new(bytes).map_err(|e| {
        anyhow::anyhow!(
            "file header: {}",
            describe_error(&e, "the file ends inside its header")
        )
    })?;
    let link = reader.header().datalink;
    if link != DataLink::ETHERNET {
        anyhow::bail!("link type {link:?}: only Ethernet captures can be run");
    }
    let mut packets = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.map_err(|e| {
            anyhow::anyhow!(
                "packet {}: {}",
                packets.len() + 1,
                describe_error(&e, "the file ends inside the packet")
            )
        })?;
        packets.push(InputPacket {
            timestamp: packet.timestamp,
            port,
            data: packet.data.into_owned(),
        });
    }
    Ok(packets)
}

fn read_pcapng(bytes: &[u8], port: Option<u32>) -> anyhow::Result<Vec<InputPacket>> {
    let mut reader = PcapNgReader::new(bytes).map_err(|e| {
        anyhow::anyhow!(
            "section header: {}",
            describe_error(&e, "the file ends inside its section header")
        )
    })?;
    let mut packets = Vec::new();
    let mut blocks = 0usize;
    // The last timestamp seen: simple packet blocks have none of their own.
    let mut last = Duration::ZERO;
    while let Some(block) = reader.next_block() {
        blocks += 1;
        let block = block.map_err(|e| {
            anyhow::anyhow!(
                "block {blocks}: {}",
                describe_error(&e, "the file ends inside the block")
            )
        })?;
        let (interface, raw_time, data) = match block {
            Block::EnhancedPacket(p) => (p.interface_id, Some(p.timestamp), p.data.into_owned()),
            Block::SimplePacket(p) => (0, None, p.data.into_owned()),
            Block::Packet(p) => (
                u32::from(p.interface_id),
                Some(Duration::from_nanos(p.timestamp)),
                p.data.into_owned(),
            ),
            _ => continue,
        };
        let description = reader.interfaces().get(interface as usize).ok_or_else(|| {
            anyhow::anyhow!(
                "packet {}: interface {interface} has no interface description block",
                packets.len() + 1
            )
        })?;
        if description.linktype != DataLink::ETHERNET {
            anyhow::bail!(
                "interface {interface}: link type {:?}: only Ethernet captures can be run",
                description.linktype
            );
        }
        if let Some(raw) = raw_time {
            last = scale_timestamp(raw, description);
        }
        packets.push(InputPacket {
            timestamp: last,
            port: port.unwrap_or(interface),
            data,
        });
    }
    Ok(packets)
}

/// pcap-file hands back a pcapng timestamp's raw units as nanoseconds; the units are really
/// the interface's `if_tsresol`: `10^-n` seconds, or `2^-n` with the top bit set (default 6).
fn scale_timestamp(raw: Duration, interface: &InterfaceDescriptionBlock) -> Duration {
    let units = raw.as_nanos();
    let resolution = interface
        .options
        .iter()
        .find_map(|o| match o {
            InterfaceDescriptionOption::IfTsResol(r) => Some(*r),
            _ => None,
        })
        .unwrap_or(6);
    let exponent = u32::from(resolution & 0x7f);
    let nanos = if resolution & 0x80 == 0 {
        if exponent <= 9 {
            units.saturating_mul(10u128.pow(9 - exponent))
        } else {
            units / 10u128.saturating_pow(exponent - 9)
        }
    } else {
        // Units of 2^-n seconds.
        units.saturating_mul(1_000_000_000) >> exponent.min(127)
    };
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// pcap-file's errors in words that say what is wrong with the file.
fn describe_error(error: &pcap_file::PcapError, truncated: &str) -> String {
    use pcap_file::PcapError;
    match error {
        PcapError::IncompleteBuffer => truncated.to_string(),
        PcapError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            truncated.to_string()
        }
        PcapError::IoError(e) => format!("read error: {e}"),
        PcapError::InvalidField(what) => format!("invalid field: {what}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::PcapNgWriter;

    use super::*;

    /// A file in a directory of its own; the test removes the directory.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("p4tc-pcap-in-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir.join(name)
    }

    fn clean(path: &Path) {
        if let Some(dir) = path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    fn packet(interface: u32, units: u64) -> EnhancedPacketBlock<'static> {
        EnhancedPacketBlock {
            interface_id: interface,
            // pcap-file writes the raw units it is given as nanoseconds.
            timestamp: Duration::from_nanos(units),
            original_len: 14,
            data: Cow::Owned(vec![interface as u8; 14]),
            options: vec![],
        }
    }

    #[test]
    fn pcapng_ports_are_interface_indexes_and_timestamps_follow_if_tsresol() {
        let path = scratch("ports.pcapng");
        let mut writer = PcapNgWriter::new(Vec::new()).expect("pcapng header");
        writer
            .write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 0xffff))
            .expect("interface 0");
        let mut nanos = InterfaceDescriptionBlock::new(DataLink::ETHERNET, 0xffff);
        nanos.options.push(InterfaceDescriptionOption::IfTsResol(9));
        writer.write_pcapng_block(nanos).expect("interface 1");
        for (interface, units) in [(0, 5), (1, 7), (1, 2_000_000_000)] {
            writer
                .write_pcapng_block(packet(interface, units))
                .expect("packet");
        }
        std::fs::write(&path, writer.into_inner()).expect("write pcapng");

        let packets = read(&path, None).expect("reads");
        let ports: Vec<u32> = packets.iter().map(|p| p.port).collect();
        assert_eq!(ports, [0, 1, 1]);
        let times: Vec<Duration> = packets.iter().map(|p| p.timestamp).collect();
        assert_eq!(
            times,
            [
                Duration::from_micros(5),
                Duration::from_nanos(7),
                Duration::from_secs(2)
            ]
        );
        assert_eq!(packets[1].data, [1u8; 14]);

        let forced = read(&path, Some(9)).expect("reads");
        assert!(forced.iter().all(|p| p.port == 9));
        clean(&path);
    }

    #[test]
    fn other_link_types_are_refused() {
        let path = scratch("raw.pcapng");
        let mut writer = PcapNgWriter::new(Vec::new()).expect("pcapng header");
        writer
            .write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::RAW, 0xffff))
            .expect("interface");
        writer.write_pcapng_block(packet(0, 1)).expect("packet");
        std::fs::write(&path, writer.into_inner()).expect("write pcapng");
        let error = format!("{:#}", read(&path, None).err().expect("refused"));
        assert!(
            error.contains("raw.pcapng: bad pcapng file")
                && error.contains("only Ethernet captures can be run"),
            "{error}"
        );
        clean(&path);
    }
}
