//! A Merkle tree over a batch's records, as Certificate Transparency builds one (RFC 6962
//! section 2.1, RFC 9162 section 2.1), with BLAKE3: leaf = H(0x00 || entry), node =
//! H(0x01 || left || right), where an entry is a stored event (its 12-byte key, then its
//! record). The chain entry of a batch commits to the root, so one event's place in its
//! batch is proven by about log2(n) hashes instead of the whole batch.

use crate::chain::Hash;

/// The hash of one leaf: `key || record`.
pub fn leaf(key: &[u8], record: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(&[0]);
    h.update(key);
    h.update(record);
    *h.finalize().as_bytes()
}

/// The hash of an inner node.
pub fn node(left: &Hash, right: &Hash) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(&[1]);
    h.update(left);
    h.update(right);
    *h.finalize().as_bytes()
}

/// The largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The root over `leaves` (RFC 6962 MTH); the hash of nothing for none.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => *blake3::hash(b"").as_bytes(),
        [one] => *one,
        _ => {
            let k = split(leaves.len());
            let (l, r) = leaves.split_at(k);
            node(&root(l), &root(r))
        }
    }
}

/// The inclusion proof of leaf `m` among `leaves` (RFC 6962 PATH(m, D[n])), nearest the
/// leaf first. Empty when `m` is out of range or there is one leaf.
pub fn proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let mut out = Vec::new();
    path(m, leaves, &mut out);
    out
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    if leaves.len() <= 1 || m >= leaves.len() {
        return;
    }
    let k = split(leaves.len());
    let (l, r) = leaves.split_at(k);
    if m < k {
        path(m, l, out);
        out.push(root(r));
    } else {
        path(m - k, r, out);
        out.push(root(l));
    }
}

/// The root that `leaf_hash` at index `m` of a tree of `n` leaves gives with `proof`
/// (RFC 9162 section 2.1.3.2); `None` when the proof has the wrong length for (m, n).
pub fn root_from_proof(leaf_hash: &Hash, m: u64, n: u64, proof: &[Hash]) -> Option<Hash> {
    if m >= n {
        return None;
    }
    let (mut f_n, mut s_n) = (m, n - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if s_n == 0 {
            return None;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    (s_n == 0).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_proof_of_every_size_leads_to_the_root_and_damage_does_not() {
        for n in 1..=40usize {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf(&[i as u8], b"r")).collect();
            let want = root(&leaves);
            for m in 0..n {
                let p = proof(m, &leaves);
                assert!(p.len() <= 6, "n {n} m {m}");
                assert_eq!(
                    root_from_proof(&leaves[m], m as u64, n as u64, &p),
                    Some(want),
                    "n {n} m {m}"
                );
                if n > 1 {
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert_ne!(
                        root_from_proof(&leaves[m], m as u64, n as u64, &bad),
                        Some(want)
                    );
                    assert_ne!(
                        root_from_proof(&leaves[m], ((m + 1) % n) as u64, n as u64, &p),
                        Some(want),
                        "n {n} m {m}"
                    );
                    let short = &p[..p.len() - 1];
                    assert_ne!(
                        root_from_proof(&leaves[m], m as u64, n as u64, short),
                        Some(want)
                    );
                }
            }
        }
    }

    #[test]
    fn leaves_and_nodes_are_kept_apart() {
        let a = leaf(b"k", b"x");
        let b = leaf(b"k", b"y");
        assert_ne!(node(&a, &b), node(&b, &a));
        let mut joined = Vec::from(&a[..]);
        joined.extend_from_slice(&b);
        assert_ne!(leaf(&joined[..12], &joined[12..]), node(&a, &b));
    }
}
