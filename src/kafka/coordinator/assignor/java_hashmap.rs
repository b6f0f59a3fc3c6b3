//! Emulates the iteration order of `java.util.HashMap` / `HashSet`, which the sticky assignors leak into their results.
//!
//! Java iterates a hash map bucket by bucket, and within a bucket in insertion order. The bucket of
//! a key is `(h ^ (h >>> 16)) & (capacity - 1)` with `h = key.hashCode()`. A default-constructed
//! map starts with 16 buckets and doubles whenever its size exceeds 3/4 of the capacity; it also
//! doubles (instead of building a tree bin) when one bucket would exceed 8 entries while the
//! table has fewer than 64 buckets. Doubling splits each bucket without reordering it, so
//! "bucket at the current capacity, then insertion sequence" is the whole rule. Tree bins (a
//! bucket of 9+ colliding keys in a table of 64+) are not emulated.

use std::borrow::Borrow;

use super::TopicPartition;

const DEFAULT_CAPACITY: usize = 16;
const TREEIFY_THRESHOLD: usize = 8;
const MIN_TREEIFY_CAPACITY: usize = 64;

/// Java's `String.hashCode()`, over UTF-16 code units.
pub(crate) fn string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

/// `hashCode()` of the Java class a Rust key stands in for.
pub(crate) trait JavaHash {
    fn java_hash(&self) -> i32;
}

impl JavaHash for String {
    fn java_hash(&self) -> i32 {
        string_hash(self)
    }
}

impl JavaHash for TopicPartition {
    /// Kafka's `TopicPartition.hashCode()`: `31 * (31 + partition) + topic.hashCode()`.
    fn java_hash(&self) -> i32 {
        // Partition numbers are Java ints; the cast keeps the same bits.
        31i32.wrapping_add(self.partition as i32).wrapping_mul(31).wrapping_add(string_hash(&self.topic))
    }
}

/// `HashMap.hash()`: folds the high half into the low half before masking.
fn spread(hash: i32) -> u32 {
    let h = hash as u32;
    h ^ (h >> 16)
}

struct Slot<K, V> {
    spread: u32,
    seq: u64,
    key: K,
    value: V,
}

/// A map whose iteration order is the one a default-constructed `java.util.HashMap` would have
/// after the same sequence of `put`/`remove` calls. Lookups are linear: maps here hold one entry
/// per group member or per moved partition.
pub(crate) struct JavaHashMap<K, V> {
    capacity: usize,
    next_seq: u64,
    slots: Vec<Slot<K, V>>,
}

pub(crate) type JavaHashSet<K> = JavaHashMap<K, ()>;

impl<K: JavaHash + Eq, V> JavaHashMap<K, V> {
    pub fn new() -> Self {
        JavaHashMap { capacity: DEFAULT_CAPACITY, next_seq: 0, slots: Vec::new() }
    }

    fn bucket(&self, spread: u32) -> usize {
        spread as usize & (self.capacity - 1)
    }

    fn position<Q>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.slots.iter().position(|s| s.key.borrow() == key)
    }

    /// `put`: an existing key keeps its place and only its value changes.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let Some(i) = self.position(&key) {
            return Some(std::mem::replace(&mut self.slots[i].value, value));
        }
        let spread = spread(key.java_hash());
        self.slots.push(Slot { spread, seq: self.next_seq, key, value });
        self.next_seq += 1;
        let bucket = self.bucket(spread);
        let bin_len = self.slots.iter().filter(|s| self.bucket(s.spread) == bucket).count();
        if bin_len > TREEIFY_THRESHOLD && self.capacity < MIN_TREEIFY_CAPACITY {
            self.capacity *= 2;
        }
        if self.slots.len() > self.capacity / 4 * 3 {
            self.capacity *= 2;
        }
        None
    }

    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.position(key).map(|i| &mut self.slots[i].value)
    }

    /// `remove`: Java never shrinks the table, so the capacity stays.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.position(key).map(|i| self.slots.remove(i).value)
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn java_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.slots.len()).collect();
        order.sort_by_key(|&i| (self.bucket(self.slots[i].spread), self.slots[i].seq));
        order
    }

    /// Entries in Java iteration order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.java_order().into_iter().map(move |i| (&self.slots[i].key, &self.slots[i].value))
    }

    /// `iterator().next()` on the key set.
    pub fn first_key(&self) -> Option<&K> {
        self.slots.iter().min_by_key(|s| (self.bucket(s.spread), s.seq)).map(|s| &s.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(map: &JavaHashMap<String, ()>) -> Vec<&str> {
        map.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn string_hash_matches_java() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        assert_eq!(string_hash("consumer1"), -421_004_549);
        // "Aa" and "BB" are the classic Java collision.
        assert_eq!(string_hash("Aa"), string_hash("BB"));
        // A supplementary character hashes as its two surrogates.
        assert_eq!(string_hash("\u{1F600}"), 0xD83D * 31 + 0xDE00);
    }

    #[test]
    fn topic_partition_hash_matches_kafka() {
        let tp = TopicPartition::new("topic", 0);
        assert_eq!(tp.java_hash(), 31 * 31 + string_hash("topic"));
    }

    #[test]
    fn consumers_iterate_in_bucket_order() {
        // kafka-facts §2.3: buckets 12, 11, 10, 9, so consumer4 is visited first.
        let mut map = JavaHashSet::new();
        for id in ["consumer1", "consumer2", "consumer3", "consumer4"] {
            map.insert(id.to_string(), ());
        }
        let buckets: Vec<usize> = ["consumer1", "consumer2", "consumer3", "consumer4"]
            .iter()
            .map(|id| map.bucket(spread(string_hash(id))))
            .collect();
        assert_eq!(buckets, [12, 11, 10, 9]);
        assert_eq!(keys(&map), ["consumer4", "consumer3", "consumer2", "consumer1"]);
        assert_eq!(map.first_key().map(String::as_str), Some("consumer4"));
    }

    #[test]
    fn colliding_keys_keep_insertion_order() {
        let mut map = JavaHashSet::new();
        map.insert("BB".to_string(), ());
        map.insert("Aa".to_string(), ());
        assert_eq!(keys(&map), ["BB", "Aa"]);
        map.remove("BB");
        map.insert("BB".to_string(), ());
        assert_eq!(keys(&map), ["Aa", "BB"]);
    }

    #[test]
    fn grows_past_three_quarters() {
        let mut map = JavaHashSet::new();
        for i in 0..12 {
            map.insert(format!("k{i}"), ());
        }
        assert_eq!(map.capacity, 16);
        map.insert("k12".to_string(), ());
        assert_eq!(map.capacity, 32);
        for i in 13..25 {
            map.insert(format!("k{i}"), ());
        }
        assert_eq!(map.capacity, 64);
        map.remove("k0");
        assert_eq!(map.capacity, 64);
        assert_eq!(map.len(), 24);
    }

    #[test]
    fn overfull_bucket_grows_small_table() {
        // Strings of "Aa"/"BB" pairs all share one hash, hence one bucket.
        let mut map = JavaHashSet::new();
        let colliding: Vec<String> =
            (0..9).map(|i: u32| (0..4).map(|bit| if i >> bit & 1 == 1 { "Aa" } else { "BB" }).collect()).collect();
        for (n, key) in colliding.iter().enumerate() {
            map.insert(key.clone(), ());
            let expected = if n < 8 { 16 } else { 32 };
            assert_eq!(map.capacity, expected, "after {} keys", n + 1);
        }
        let order: Vec<&String> = map.iter().map(|(k, _)| k).collect();
        assert_eq!(order, colliding.iter().collect::<Vec<_>>());
    }

    #[test]
    fn insert_existing_key_keeps_position() {
        let mut map: JavaHashMap<String, u32> = JavaHashMap::new();
        assert_eq!(map.insert("consumer1".into(), 1), None);
        assert_eq!(map.insert("consumer2".into(), 2), None);
        assert_eq!(map.insert("consumer1".into(), 3), Some(1));
        *map.get_mut("consumer2").unwrap() += 1;
        let values: Vec<(&str, u32)> = map.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(values, [("consumer2", 3), ("consumer1", 3)]);
        assert!(!map.is_empty());
        let order: Vec<&str> = map.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(order, ["consumer2", "consumer1"]);
    }
}
