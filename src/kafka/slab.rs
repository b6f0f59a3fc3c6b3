//! A slab: payloads of queued events live here and the event carries only a slot number, which
//! keeps events small and the queue cheap. Freed slots are reused.

pub struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { items: Vec::new(), free: Vec::new() }
    }
}

impl<T> Slab<T> {
    pub fn insert(&mut self, item: T) -> u32 {
        match self.free.pop() {
            Some(s) => {
                self.items[s as usize] = Some(item);
                s
            }
            None => {
                self.items.push(Some(item));
                u32::try_from(self.items.len() - 1).expect("fewer than 2^32 queued payloads")
            }
        }
    }

    /// Takes the payload out; each slot is taken exactly once.
    pub fn take(&mut self, slot: u32) -> T {
        let item = self.items[slot as usize].take().expect("slab slot taken twice");
        self.free.push(slot);
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused() {
        let mut s = Slab::default();
        let a = s.insert("a");
        let b = s.insert("b");
        assert_eq!(s.take(a), "a");
        assert_eq!(s.insert("c"), a);
        assert_eq!(s.take(b), "b");
    }
}
