//! Latency counts in hdrhistogram's own buckets, filled at a few instructions per record and
//! moved into a [`Histogram`] once the run is over.
//!
//! `Histogram::record` checks the range, resizes, saturates and tracks min and max on every
//! value: most of the cost of a record's latency. Counting in the same buckets and handing the
//! histogram one `record_n` per bucket afterwards gives it exactly the same counts per bucket,
//! so every quantile, mean, min and max it reports is the same.

use hdrhistogram::Histogram;

/// A bucket's count: `u64` where counts gather for the whole run, `u32` in the few seconds still
/// being counted into (half the memory: a latency table is some 20,000 buckets, per group). The
/// owner of `u32` counts folds them before they could hold 2^32 values.
pub trait Count: Copy + Default + PartialEq + Into<u64> {
    fn plus(self, n: u64) -> Self;
}

impl Count for u64 {
    #[inline]
    fn plus(self, n: u64) -> Self {
        self + n
    }
}

impl Count for u32 {
    #[inline]
    fn plus(self, n: u64) -> Self {
        u32::try_from(u64::from(self) + n).expect("u32 counts are folded before they reach 2^32")
    }
}

/// Counts per bucket of a `Histogram<u64>` made by `Histogram::new(sigfig)` (lowest discernible
/// value 1). `SUB_MAG` is hdrhistogram's `sub_bucket_count_magnitude`: ceil(log2(2 * 10^sigfig)).
#[derive(Clone, Debug)]
pub struct BucketCounts<const SUB_MAG: u32, C: Count = u64> {
    /// Buckets `base..base + counts.len()`: only the magnitudes counted into are held (a run's
    /// latencies span a few of the 40-odd, and the lower half of the index space, below a
    /// millisecond or so, is mostly empty).
    counts: Vec<C>,
    base: usize,
    /// The lowest bucket counted into since the counts were last moved out (usize::MAX: none),
    /// so moving them out reads only from there.
    lo: usize,
}

impl<const SUB_MAG: u32, C: Count> Default for BucketCounts<SUB_MAG, C> {
    fn default() -> Self {
        BucketCounts { counts: Vec::new(), base: 0, lo: usize::MAX }
    }
}

/// For `Histogram::new(3)`.
pub type Counts3 = BucketCounts<11>;
/// For `Histogram::new(3)`, in `u32`: a second still open (see [`Count`]).
pub type OpenCounts3 = BucketCounts<11, u32>;
/// For `Histogram::new(2)`.
pub type Counts2 = BucketCounts<8>;

impl<const SUB_MAG: u32, C: Count> BucketCounts<SUB_MAG, C> {
    const HALF_MAG: u32 = SUB_MAG - 1;
    const HALF: u64 = 1 << (SUB_MAG - 1);
    const MASK: u64 = (1 << SUB_MAG) - 1;

    /// hdrhistogram's `index_for` with unit magnitude 0, for `value` >= 1.
    #[inline]
    fn index(value: u64) -> usize {
        let bucket = (64 - SUB_MAG) - (value | Self::MASK).leading_zeros();
        let sub = value >> bucket;
        (((u64::from(bucket) + 1) << Self::HALF_MAG) + sub - Self::HALF) as usize
    }

    /// hdrhistogram's `value_for`: the lowest value of bucket `index`.
    fn value_for(index: usize) -> u64 {
        let bucket = (index >> Self::HALF_MAG) as i64 - 1;
        let sub = (index as u64 & (Self::HALF - 1)) + Self::HALF;
        if bucket < 0 { sub - Self::HALF } else { sub << bucket }
    }

    /// Counts one value (values below 1 count as 1, as the histograms here record them).
    #[inline]
    pub fn add(&mut self, value: u64) {
        self.add_n_at(Self::index(value.max(1)), 1);
    }

    #[inline]
    fn add_n_at(&mut self, i: usize, n: u64) {
        self.lo = self.lo.min(i);
        match self.counts.get_mut(i.wrapping_sub(self.base)) {
            Some(c) => *c = c.plus(n),
            None => self.grow_to(i, n),
        }
    }

    /// Bucket `i` is outside those held: they grow to whole magnitudes (`HALF` buckets each),
    /// so growing happens at most once per magnitude and leaves no unused room behind.
    #[cold]
    fn grow_to(&mut self, i: usize, n: u64) {
        let half = Self::HALF as usize;
        let (low, high) = if self.counts.is_empty() {
            (i, i)
        } else {
            (self.base.min(i), (self.base + self.counts.len() - 1).max(i))
        };
        let base = low / half * half;
        let mut grown = Vec::with_capacity((high / half + 1) * half - base);
        if !self.counts.is_empty() {
            grown.resize(self.base - base, C::default());
            grown.extend_from_slice(&self.counts);
        }
        grown.resize(grown.capacity(), C::default());
        grown[i - base] = C::default().plus(n);
        (self.counts, self.base) = (grown, base);
    }

    /// Moves the counts into `same` (counts in the same buckets) and into `coarse` (counts with
    /// fewer significant figures), keeping this one's buffer, zeroed, for reuse. A bucket of
    /// more significant figures lies wholly inside one of fewer (both are power-of-two wide and
    /// aligned, and the finer one is never the wider), so `coarse` gets exactly the counts it
    /// would have had from each value.
    pub fn fold_into<const M2: u32>(&mut self, same: &mut BucketCounts<SUB_MAG>, coarse: &mut BucketCounts<M2>) {
        if self.lo == usize::MAX {
            return;
        }
        let from = self.lo - self.base;
        for (j, c) in self.counts[from..].iter_mut().enumerate().filter(|(_, c)| **c != C::default()) {
            let (i, n) = (self.base + from + j, (*c).into());
            same.add_n_at(i, n);
            coarse.add_n_at(BucketCounts::<M2>::index(Self::value_for(i).max(1)), n);
            *c = C::default();
        }
        self.lo = usize::MAX;
    }

    /// Adds the counts to `h` (made with the matching number of significant figures).
    pub fn copy_into(&self, h: &mut Histogram<u64>) {
        for (j, c) in self.counts.iter().enumerate().filter(|(_, c)| **c != C::default()) {
            let (v, c) = (Self::value_for(self.base + j), (*c).into());
            if h.record_n(v, c).is_err() {
                h.saturating_record_n(v, c);
            }
        }
    }

    /// Moves the counts into `h` (made with the matching number of significant figures).
    pub fn drain_into(&mut self, h: &mut Histogram<u64>) {
        self.copy_into(h);
        self.counts = Vec::new();
        self.lo = usize::MAX;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn same<const M: u32>(sigfig: u8, values: &[u64]) {
        let mut direct = Histogram::<u64>::new(sigfig).unwrap();
        let mut counts = BucketCounts::<M>::default();
        for &v in values {
            direct.record(v.max(1)).unwrap();
            counts.add(v);
        }
        let mut settled = Histogram::<u64>::new(sigfig).unwrap();
        counts.drain_into(&mut settled);
        assert_eq!(settled.len(), direct.len());
        assert_eq!(settled.max(), direct.max());
        assert_eq!(settled.min_nz(), direct.min_nz());
        assert_eq!(settled.mean().to_bits(), direct.mean().to_bits());
        for q in 0..=1000 {
            let q = f64::from(q) / 1000.0;
            assert_eq!(settled.value_at_quantile(q), direct.value_at_quantile(q), "q {q}");
        }
        let buckets = |h: &Histogram<u64>| -> Vec<(u64, u64)> {
            h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect()
        };
        assert_eq!(buckets(&settled), buckets(&direct));
    }

    /// Counted with 3 significant figures and folded (in two parts, through a reused buffer),
    /// the same counts per bucket as counting each value at 3 and at 2 significant figures.
    fn folded(values: &[u64]) {
        let (mut fine, mut total, mut coarse) = (OpenCounts3::default(), Counts3::default(), Counts2::default());
        let (mut direct3, mut direct2) = (Counts3::default(), Counts2::default());
        let half = values.len() / 2;
        for part in [&values[..half], &values[half..]] {
            for &v in part {
                fine.add(v);
                direct3.add(v);
                direct2.add(v);
            }
            fine.fold_into(&mut total, &mut coarse);
        }
        assert!(fine.counts.iter().all(|&c| c == 0), "the buffer is left zeroed");
        fn nonzero<const M: u32>(c: &BucketCounts<M>) -> Vec<(usize, u64)> {
            c.counts.iter().enumerate().filter(|(_, n)| **n > 0).map(|(j, n)| (c.base + j, *n)).collect()
        }
        assert_eq!(nonzero(&total), nonzero(&direct3));
        assert_eq!(nonzero(&coarse), nonzero(&direct2));
    }

    #[test]
    fn only_the_magnitudes_counted_into_are_held() {
        let mut c = Counts3::default();
        for v in [1_500_000, 1_100_000, 2_000_000] {
            c.add(v); // all in [2^20, 2^21): one magnitude, 1,024 buckets of 3 figures
        }
        assert_eq!(c.counts.len(), 1024);
        c.add(3_000_000); // the next magnitude up
        assert_eq!(c.counts.len(), 2048);
        c.add(1); // down to bucket 0
        assert_eq!((c.base, c.counts.len()), (0, Counts3::index(3_000_000) / 1024 * 1024 + 1024));
    }

    #[test]
    fn the_same_histogram_as_recording_each_value() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for round in 0..20 {
            // Values spread over every magnitude, and runs of small ones (bucket 0).
            let n = 1 + round * 500;
            let values: Vec<u64> = (0..n)
                .map(|i| if i % 7 == 0 { rng.gen_range(0..5000) } else { rng.r#gen::<u64>() >> rng.gen_range(1..64) })
                .collect();
            same::<11>(3, &values);
            same::<8>(2, &values);
            folded(&values);
        }
        same::<11>(3, &[0, 1, 2047, 2048, 2049, 4095, 4096, 1 << 62]);
        same::<8>(2, &[0, 1, 255, 256, 257, 511, 512, 1 << 62]);
        folded(&[0, 1, 255, 256, 257, 511, 512, 2047, 2048, 2049, 4095, 4096, 1 << 62, 3, u64::MAX]);
    }
}
