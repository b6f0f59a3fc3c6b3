//! Latency counts in hdrhistogram's own buckets, filled at a few instructions per record and
//! moved into a [`Histogram`] once the run is over.
//!
//! `Histogram::record` checks the range, resizes, saturates and tracks min and max on every
//! value: most of the cost of a record's latency. Counting in the same buckets and handing the
//! histogram one `record_n` per bucket afterwards gives it exactly the same counts per bucket,
//! so every quantile, mean, min and max it reports is the same.

use hdrhistogram::Histogram;

/// Counts per bucket of a `Histogram<u64>` made by `Histogram::new(sigfig)` (lowest discernible
/// value 1). `SUB_MAG` is hdrhistogram's `sub_bucket_count_magnitude`: ceil(log2(2 * 10^sigfig)).
#[derive(Clone, Debug)]
pub struct BucketCounts<const SUB_MAG: u32> {
    counts: Vec<u64>,
    /// The lowest bucket counted into since the counts were last moved out (usize::MAX: none),
    /// so moving them out reads only from there.
    lo: usize,
}

impl<const SUB_MAG: u32> Default for BucketCounts<SUB_MAG> {
    fn default() -> Self {
        BucketCounts { counts: Vec::new(), lo: usize::MAX }
    }
}

/// For `Histogram::new(3)`.
pub type Counts3 = BucketCounts<11>;
/// For `Histogram::new(2)`.
pub type Counts2 = BucketCounts<8>;

impl<const SUB_MAG: u32> BucketCounts<SUB_MAG> {
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
        match self.counts.get_mut(i) {
            Some(c) => *c += n,
            None => {
                self.counts.resize(i + 1, 0);
                self.counts[i] = n;
            }
        }
    }

    /// Moves the counts into `same` (counts in the same buckets) and into `coarse` (counts with
    /// fewer significant figures), keeping this one's buffer, zeroed, for reuse. A bucket of
    /// more significant figures lies wholly inside one of fewer (both are power-of-two wide and
    /// aligned, and the finer one is never the wider), so `coarse` gets exactly the counts it
    /// would have had from each value.
    pub fn fold_into<const M2: u32>(&mut self, same: &mut Self, coarse: &mut BucketCounts<M2>) {
        if self.lo == usize::MAX {
            return;
        }
        let lo = self.lo;
        for (i, c) in self.counts[lo..].iter_mut().enumerate().filter(|(_, c)| **c > 0) {
            let i = lo + i;
            same.add_n_at(i, *c);
            coarse.add_n_at(BucketCounts::<M2>::index(Self::value_for(i).max(1)), *c);
            *c = 0;
        }
        self.lo = usize::MAX;
    }

    /// Moves the counts into `h` (made with the matching number of significant figures).
    pub fn drain_into(&mut self, h: &mut Histogram<u64>) {
        for (i, &c) in self.counts.iter().enumerate().filter(|(_, c)| **c > 0) {
            let v = Self::value_for(i);
            if h.record_n(v, c).is_err() {
                h.saturating_record_n(v, c);
            }
        }
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
        let (mut fine, mut total, mut coarse) = (Counts3::default(), Counts3::default(), Counts2::default());
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
        let trimmed = |c: &[u64]| c[..c.iter().rposition(|&n| n > 0).map_or(0, |i| i + 1)].to_vec();
        assert_eq!(trimmed(&total.counts), trimmed(&direct3.counts));
        assert_eq!(trimmed(&coarse.counts), trimmed(&direct2.counts));
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
