//! Longest-prefix match on key blobs: [`LpmIndex`], 256 path-compressed binary tries (PATRICIA
//! tries whose nodes may hold an entry) under a first-byte table.
//!
//! A node stands for a prefix (its first `len` bits); a node's children extend its prefix by at
//! least one bit, the first of those bits choosing the child. Nodes without an entry exist only
//! where two branches part, so the trie has fewer than two nodes per entry, and a lookup visits
//! one node per branching point on the key's path (about log2 of the entries), comparing a few
//! bytes at each, instead of probing one hash map per prefix length.

/// No node / no entry.
const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Node {
    /// The prefix's first 16 bytes, big-endian: keys of up to 16 bytes (most: IPv4, IPv6,
    /// a VRF and an address) are compared as one integer, with no byte loop.
    head: u128,
    /// Prefix length in bits.
    len: u32,
    /// The entry's slot, or `NONE` for a branching node.
    entry: u32,
    /// Children by the bit after the prefix.
    children: [u32; 2],
}

/// Bit `i` (from the most significant bit of byte 0) of `bytes`.
#[inline]
fn bit(bytes: &[u8], i: u32) -> usize {
    let byte = bytes.get((i / 8) as usize).copied().unwrap_or(0);
    usize::from(byte >> (7 - (i % 8)) & 1)
}

/// Whether the first `len` bits of `a` and `b` are equal.
#[inline]
fn same_prefix(a: &[u8], b: &[u8], len: u32) -> bool {
    let whole = (len / 8) as usize;
    let rest = len % 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = !(0xffu8 >> rest);
    (a[whole] ^ b[whole]) & mask == 0
}

/// How many leading bits `a` and `b` share, at most `max`.
fn common_bits(a: &[u8], b: &[u8], max: u32) -> u32 {
    let mut n = 0;
    for (x, y) in a.iter().zip(b) {
        let diff = x ^ y;
        if diff != 0 {
            n += diff.leading_zeros();
            return n.min(max);
        }
        n += 8;
        if n >= max {
            return max;
        }
    }
    n.min(max)
}

/// The trie.
#[derive(Debug)]
pub(crate) struct LpmTrie {
    nodes: Vec<Node>,
    /// Node `i`'s prefix bytes (bits past its length zero) at `i * stride`.
    prefixes: Vec<u8>,
    /// Bytes of a key's data.
    stride: usize,
    /// Keys fit in a `u128`: lookups use [`Node::head`].
    narrow: bool,
    root: u32,
    free: Vec<u32>,
}

impl LpmTrie {
    /// An empty trie for keys of `stride` bytes.
    pub fn new(stride: usize) -> LpmTrie {
        LpmTrie {
            nodes: Vec::new(),
            prefixes: Vec::new(),
            stride,
            narrow: stride <= 16,
            root: NONE,
            free: Vec::new(),
        }
    }

    #[inline]
    fn prefix(&self, node: u32) -> &[u8] {
        let at = node as usize * self.stride;
        &self.prefixes[at..at + self.stride]
    }

    fn alloc(&mut self, prefix: &[u8], len: u32, entry: u32) -> u32 {
        // The stored prefix keeps only its first `len` bits.
        let mut bytes = prefix[..self.stride].to_vec();
        let whole = (len / 8) as usize;
        if whole < bytes.len() {
            bytes[whole] &= !(0xffu8 >> (len % 8));
            bytes[whole + 1..].fill(0);
        }
        let node = Node {
            head: head(&bytes),
            len,
            entry,
            children: [NONE; 2],
        };
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                let at = i as usize * self.stride;
                self.prefixes[at..at + self.stride].copy_from_slice(&bytes);
                i
            }
            None => {
                self.nodes.push(node);
                self.prefixes.extend_from_slice(&bytes);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, node: u32) {
        self.nodes[node as usize] = Node {
            head: 0,
            len: 0,
            entry: NONE,
            children: [NONE; 2],
        };
        self.free.push(node);
    }

    /// Points the link that leads to a node (the root, or a parent's child) at `to`.
    fn relink(&mut self, parent: Option<(u32, usize)>, to: u32) {
        match parent {
            None => self.root = to,
            Some((p, b)) => self.nodes[p as usize].children[b] = to,
        }
    }

    /// Adds (or replaces) the entry for the first `len` bits of `data`.
    pub fn insert(&mut self, data: &[u8], len: u32, entry: u32) {
        let mut parent: Option<(u32, usize)> = None;
        let mut at = self.root;
        loop {
            if at == NONE {
                let leaf = self.alloc(data, len, entry);
                self.relink(parent, leaf);
                return;
            }
            let node = self.nodes[at as usize];
            let common = common_bits(data, self.prefix(at), len.min(node.len));
            if common < node.len {
                if common == len {
                    // The new prefix is a prefix of this node's: it goes above it.
                    let bit_of_old = bit(self.prefix(at), len);
                    let new = self.alloc(data, len, entry);
                    self.nodes[new as usize].children[bit_of_old] = at;
                    self.relink(parent, new);
                } else {
                    // They part at bit `common`: a branching node there.
                    let bit_of_old = bit(self.prefix(at), common);
                    let branch = self.alloc(data, common, NONE);
                    let leaf = self.alloc(data, len, entry);
                    self.nodes[branch as usize].children[bit_of_old] = at;
                    self.nodes[branch as usize].children[1 - bit_of_old] = leaf;
                    self.relink(parent, branch);
                }
                return;
            }
            if node.len == len {
                self.nodes[at as usize].entry = entry;
                return;
            }
            let b = bit(data, node.len);
            parent = Some((at, b));
            at = node.children[b];
        }
    }

    /// The node holding exactly the first `len` bits of `data`, with its parent link.
    fn find(&self, data: &[u8], len: u32) -> Option<(u32, Option<(u32, usize)>)> {
        let mut parent = None;
        let mut at = self.root;
        while at != NONE {
            let node = self.nodes[at as usize];
            if node.len > len || !same_prefix(data, self.prefix(at), node.len) {
                return None;
            }
            if node.len == len {
                return Some((at, parent));
            }
            let b = bit(data, node.len);
            parent = Some((at, b));
            at = node.children[b];
        }
        None
    }

    /// The entry stored for exactly the first `len` bits of `data`.
    pub fn get(&self, data: &[u8], len: u32) -> Option<u32> {
        self.find(data, len)
            .map(|(n, _)| self.nodes[n as usize].entry)
            .filter(|&e| e != NONE)
    }

    /// Removes the entry for the first `len` bits of `data`; nodes left without a purpose
    /// (no entry and fewer than two children) go too.
    pub fn remove(&mut self, data: &[u8], len: u32) {
        let Some((at, parent)) = self.find(data, len) else {
            return;
        };
        self.nodes[at as usize].entry = NONE;
        self.prune(at, parent);
        // The parent may now be a branching node with one child: find it again and prune.
        if let Some((p, _)) = parent {
            let p_len = self.nodes[p as usize].len;
            let p_prefix = self.prefix(p).to_vec();
            if let Some((p, grand)) = self.find(&p_prefix, p_len) {
                self.prune(p, grand);
            }
        }
    }

    /// Removes `at` if it holds no entry and has fewer than two children (a single child
    /// takes its place).
    fn prune(&mut self, at: u32, parent: Option<(u32, usize)>) {
        let node = self.nodes[at as usize];
        if node.entry != NONE {
            return;
        }
        let children: Vec<u32> = node
            .children
            .iter()
            .copied()
            .filter(|&c| c != NONE)
            .collect();
        match children[..] {
            [] => {
                self.relink(parent, NONE);
                self.release(at);
            }
            [only] => {
                self.relink(parent, only);
                self.release(at);
            }
            _ => {}
        }
    }

    /// The entry of the longest stored prefix of `key` (`stride` bytes).
    #[inline]
    pub fn lookup(&self, key: &[u8]) -> Option<u32> {
        if self.narrow {
            return self.lookup_narrow(head(key));
        }
        let mut best = NONE;
        let mut at = self.root;
        while at != NONE {
            let node = &self.nodes[at as usize];
            if !same_prefix(key, self.prefix(at), node.len) {
                break;
            }
            if node.entry != NONE {
                best = node.entry;
            }
            at = node.children[bit(key, node.len)];
        }
        (best != NONE).then_some(best)
    }

    /// [`LpmTrie::lookup`] for keys of up to 16 bytes, given as [`head`] makes them.
    #[inline]
    fn lookup_narrow(&self, key: u128) -> Option<u32> {
        let mut best = NONE;
        let mut at = self.root;
        while at != NONE {
            let node = &self.nodes[at as usize];
            // Lengths are at most 128 here (16 bytes).
            let mask = u128::MAX.checked_shl(128 - node.len).unwrap_or(0);
            if (key ^ node.head) & mask != 0 {
                break;
            }
            if node.entry != NONE {
                best = node.entry;
            }
            if node.len >= 128 {
                break;
            }
            at = node.children[((key >> (127 - node.len)) & 1) as usize];
        }
        (best != NONE).then_some(best)
    }
}

/// The first 16 bytes of `bytes` as a big-endian integer (zero-padded), read 4 bytes at a
/// time straight from the slice.
#[inline]
fn head(bytes: &[u8]) -> u128 {
    let mut v = 0u128;
    let mut bits = 0u32;
    let mut chunks = bytes.chunks_exact(4);
    for c in (&mut chunks).take(4) {
        let mut w = [0u8; 4];
        w.copy_from_slice(c);
        v = v << 32 | u128::from(u32::from_be_bytes(w));
        bits += 32;
    }
    for &b in chunks.remainder() {
        if bits >= 128 {
            break;
        }
        v = v << 8 | u128::from(b);
        bits += 8;
    }
    v.checked_shl(128 - bits).unwrap_or(0)
}

/// LPM over key blobs: the first byte picks one of 256 tries (the prefixes longer than 8 bits
/// that start with it), and a table of 256 slots holds the longest prefix of at most 8 bits
/// covering each first byte. A lookup so skips the trie's top 8 levels.
#[derive(Debug)]
pub(crate) struct LpmIndex {
    /// Per first byte, the entry of the longest prefix of at most 8 bits covering it.
    short_best: Vec<u32>,
    /// The prefixes of at most 8 bits: (first byte, length, entry).
    short: Vec<(u8, u32, u32)>,
    /// Per first byte, the prefixes longer than 8 bits starting with it.
    tries: Vec<LpmTrie>,
}

impl LpmIndex {
    /// An empty index for keys of `stride` bytes.
    pub fn new(stride: usize) -> LpmIndex {
        LpmIndex {
            short_best: vec![NONE; 256],
            short: Vec::new(),
            tries: (0..256).map(|_| LpmTrie::new(stride)).collect(),
        }
    }

    /// The first bytes a prefix of `len` (at most 8) bits starting with `first` covers.
    fn covered(first: u8, len: u32) -> std::ops::RangeInclusive<usize> {
        let free = 8 - len;
        let low = usize::from(first) >> free << free;
        low..=low + (1 << free) - 1
    }

    /// Recomputes the short slots for first bytes in `range`.
    fn refresh(&mut self, range: std::ops::RangeInclusive<usize>) {
        for b in range {
            self.short_best[b] = self
                .short
                .iter()
                .filter(|&&(first, len, _)| Self::covered(first, len).contains(&b))
                .max_by_key(|&&(_, len, _)| len)
                .map_or(NONE, |&(_, _, entry)| entry);
        }
    }

    /// Adds (or replaces) the entry for the first `len` bits of `data`.
    pub fn insert(&mut self, data: &[u8], len: u32, entry: u32) {
        let first = data.first().copied().unwrap_or(0);
        if len <= 8 {
            let first = if len == 0 {
                0
            } else {
                first & !(0xffu8.checked_shr(len).unwrap_or(0))
            };
            self.short.retain(|&(f, l, _)| !(f == first && l == len));
            self.short.push((first, len, entry));
            self.refresh(Self::covered(first, len));
        } else {
            self.tries[usize::from(first)].insert(data, len, entry);
        }
    }

    /// Removes the entry for the first `len` bits of `data`.
    pub fn remove(&mut self, data: &[u8], len: u32) {
        let first = data.first().copied().unwrap_or(0);
        if len <= 8 {
            let first = if len == 0 {
                0
            } else {
                first & !(0xffu8.checked_shr(len).unwrap_or(0))
            };
            self.short.retain(|&(f, l, _)| !(f == first && l == len));
            self.refresh(Self::covered(first, len));
        } else {
            self.tries[usize::from(first)].remove(data, len);
        }
    }

    /// The entry stored for exactly the first `len` bits of `data`.
    pub fn get(&self, data: &[u8], len: u32) -> Option<u32> {
        let first = data.first().copied().unwrap_or(0);
        if len <= 8 {
            let first = if len == 0 {
                0
            } else {
                first & !(0xffu8.checked_shr(len).unwrap_or(0))
            };
            self.short
                .iter()
                .find(|&&(f, l, _)| f == first && l == len)
                .map(|&(_, _, e)| e)
        } else {
            self.tries[usize::from(first)].get(data, len)
        }
    }

    /// The entry of the longest stored prefix of `key`.
    #[inline]
    pub fn lookup(&self, key: &[u8]) -> Option<u32> {
        let first = usize::from(key.first().copied().unwrap_or(0));
        self.tries[first].lookup(key).or_else(|| {
            let e = self.short_best[first];
            (e != NONE).then_some(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_removal_prunes() {
        let mut t = LpmTrie::new(4);
        t.insert(&[10, 0, 0, 0], 8, 1);
        t.insert(&[10, 1, 0, 0], 16, 2);
        t.insert(&[10, 1, 2, 0], 24, 3);
        t.insert(&[0, 0, 0, 0], 0, 4);
        t.insert(&[192, 168, 0, 0], 16, 5);
        assert_eq!(t.lookup(&[10, 1, 2, 3]), Some(3));
        assert_eq!(t.lookup(&[10, 1, 3, 3]), Some(2));
        assert_eq!(t.lookup(&[10, 2, 3, 3]), Some(1));
        assert_eq!(t.lookup(&[11, 2, 3, 3]), Some(4));
        assert_eq!(t.lookup(&[192, 168, 1, 1]), Some(5));
        assert_eq!(t.get(&[10, 1, 0, 0], 16), Some(2));
        assert_eq!(t.get(&[10, 1, 0, 0], 15), None);
        t.remove(&[10, 1, 0, 0], 16);
        assert_eq!(t.lookup(&[10, 1, 3, 3]), Some(1));
        assert_eq!(t.lookup(&[10, 1, 2, 3]), Some(3));
        t.remove(&[0, 0, 0, 0], 0);
        assert_eq!(t.lookup(&[11, 2, 3, 3]), None);
        for (p, l) in [
            ([10, 0, 0, 0], 8),
            ([10, 1, 2, 0], 24),
            ([192, 168, 0, 0], 16),
        ] {
            t.remove(&p, l);
        }
        assert_eq!(t.root, NONE);
        assert_eq!(t.free.len(), t.nodes.len());
    }

    proptest::proptest! {
        /// Random inserts and removals on 12-bit prefixes, each followed by every lookup,
        /// against a list of the prefixes present.
        #[test]
        fn matches_a_list(
            ops in proptest::collection::vec((proptest::bool::ANY, 0u16..4096, 0u32..=12), 1..200),
            wide in proptest::bool::ANY,
        ) {
            // Narrow keys take the integer path, wide ones (20 bytes) the byte path.
            let stride = if wide { 20 } else { 2 };
            let mut t = LpmTrie::new(stride);
            let mut x = LpmIndex::new(stride);
            let mut list: Vec<(u16, u32, u32)> = Vec::new();
            let bytes = |v: u16| {
                let mut b = vec![0u8; stride];
                b[..2].copy_from_slice(&(v << 4).to_be_bytes());
                b
            };
            let mask = |l: u32| if l == 0 { 0 } else { 0xfffu16 << (12 - l) & 0xfff };
            for (i, (add, v, l)) in ops.into_iter().enumerate() {
                let v = v & mask(l);
                list.retain(|e| !(e.0 == v && e.1 == l));
                if add {
                    t.insert(&bytes(v), l, i as u32);
                    x.insert(&bytes(v), l, i as u32);
                    list.push((v, l, i as u32));
                } else {
                    t.remove(&bytes(v), l);
                    x.remove(&bytes(v), l);
                }
                for probe in (0u16..4096).step_by(37) {
                    let expected = list
                        .iter()
                        .filter(|e| probe & mask(e.1) == e.0)
                        .max_by_key(|e| e.1)
                        .map(|e| e.2);
                    proptest::prop_assert_eq!(t.lookup(&bytes(probe)), expected);
                    proptest::prop_assert_eq!(x.lookup(&bytes(probe)), expected);
                }
                for e in &list {
                    proptest::prop_assert_eq!(t.get(&bytes(e.0), e.1), Some(e.2));
                    proptest::prop_assert_eq!(x.get(&bytes(e.0), e.1), Some(e.2));
                }
            }
            let live = t.nodes.len() - t.free.len();
            proptest::prop_assert!(live < 2 * list.len().max(1), "{} nodes for {} entries", live, list.len());
        }
    }
}
