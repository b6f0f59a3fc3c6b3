//! Kafka's murmur2 (`Utils.murmur2`) and `toPositive`, bit for bit, so keyed records land on the
//! partition a real Kafka producer would pick.

const SEED: u32 = 0x9747_b28c;
const M: u32 = 0x5bd1_e995;
const R: u32 = 24;

/// MurmurHash2, 32-bit, as Kafka computes it (returns Java's signed int).
pub fn murmur2(data: &[u8]) -> i32 {
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's `Utils.toPositive`: clears the sign bit (it is not `abs`).
pub fn to_positive(x: i32) -> u32 {
    (x as u32) & 0x7fff_ffff
}

/// The partition Kafka's default partitioner gives a non-null key.
pub fn partition_for_key(key: &[u8], num_partitions: u32) -> u32 {
    to_positive(murmur2(key)) % num_partitions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_utils_test_vectors() {
        // UtilsTest.testMurmur2
        assert_eq!(murmur2(b"21"), -973932308);
        assert_eq!(murmur2(b"foobar"), -790332482);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985981536);
        assert_eq!(murmur2(b"a-little-bit-longer-string"), -1486304829);
        assert_eq!(murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
        assert_eq!(murmur2(b"abc"), 479470107);
    }

    #[test]
    fn to_positive_masks_rather_than_negates() {
        assert_eq!(to_positive(-1), 2147483647);
        assert_eq!(to_positive(-973932308), 1173551340);
        assert_eq!(to_positive(i32::MIN), 0);
    }

    #[test]
    fn mock_producer_and_streams_partitions() {
        // MockProducerTest.testPartitioner: "key" on 2 partitions -> 1.
        assert_eq!(partition_for_key(b"key", 2), 1);
        // RecordCollectorTest: 9 keys on 3 partitions give 4 / 3 / 2 records.
        let mut counts = [0; 3];
        for k in ["3", "9", "27", "81", "243", "28", "82", "244", "245"] {
            counts[partition_for_key(k.as_bytes(), 3) as usize] += 1;
        }
        assert_eq!(counts, [4, 3, 2]);
        // KTableKTableForeignKeyInnerJoinMultiIntegrationTest comment, n = 3.
        let expect = [2, 0, 2, 2, 1, 0, 1, 0, 0, 2];
        for (i, p) in expect.iter().enumerate() {
            assert_eq!(partition_for_key(i.to_string().as_bytes(), 3), *p, "key {i}");
        }
    }

    #[test]
    fn derived_table_vectors() {
        let rows: [(&[u8], i32, [u32; 8]); 7] = [
            (b"", 275646681, [1, 0, 1, 1, 3, 1, 1, 9]),
            (b"a", -1563381124, [0, 1, 0, 4, 4, 4, 4, 4]),
            (b"hello", 2132663229, [1, 0, 1, 4, 3, 5, 9, 9]),
            (b"key0", 452605474, [0, 1, 2, 4, 4, 2, 4, 10]),
            (b"user-1", 1404122828, [0, 2, 0, 3, 2, 4, 8, 8]),
            (&[0, 0, 0, 42], 1606757304, [0, 0, 0, 4, 0, 0, 4, 0]),
            (&[0; 8], -522759933, [1, 2, 3, 0, 5, 3, 5, 11]),
        ];
        for (key, hash, parts) in rows {
            assert_eq!(murmur2(key), hash);
            for (n, p) in [2, 3, 4, 5, 6, 8, 10, 12].iter().zip(parts) {
                assert_eq!(partition_for_key(key, *n), p, "{key:?} n={n}");
            }
        }
    }
}
