//! Per-record processing time: the distributions a scenario can name, scaled by a `slow` factor.

use crate::scenario::plan::Processing;
use crate::sim::rng::SimRng;
use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};

#[derive(Clone, Debug)]
pub struct ProcessingTime {
    dist: Processing,
    factor: f64,
}

impl ProcessingTime {
    pub fn new(dist: Processing) -> Self {
        ProcessingTime { dist, factor: 1.0 }
    }

    pub fn set_factor(&mut self, factor: f64) {
        self.factor = factor;
    }

    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// True when every record takes the same time, so a batch's duration is a product.
    pub fn constant_ns(&self) -> Option<u64> {
        match self.dist {
            Processing::Constant(d) => Some(scale(d.as_nanos() as f64, self.factor)),
            _ => None,
        }
    }

    /// One record's processing time in nanoseconds.
    pub fn sample(&self, rng: &mut SimRng) -> u64 {
        let ns = match &self.dist {
            Processing::Constant(d) => d.as_nanos() as f64,
            Processing::Exponential(mean) => {
                let e: f64 = Exp1.sample(rng);
                e * mean.as_nanos() as f64
            }
            Processing::Uniform(lo, hi) => {
                if lo == hi {
                    lo.as_nanos() as f64
                } else {
                    rng.gen_range(lo.as_nanos()..=hi.as_nanos()) as f64
                }
            }
            Processing::LogNormal { median, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                median.as_nanos() as f64 * (sigma * z).exp()
            }
        };
        scale(ns, self.factor)
    }

    /// Mean processing time in ns (for reports and sanity checks).
    pub fn mean_ns(&self) -> f64 {
        let base = match &self.dist {
            Processing::Constant(d) | Processing::Exponential(d) => d.as_nanos() as f64,
            Processing::Uniform(lo, hi) => (lo.as_nanos() + hi.as_nanos()) as f64 / 2.0,
            Processing::LogNormal { median, sigma } => median.as_nanos() as f64 * (sigma * sigma / 2.0).exp(),
        };
        base * self.factor
    }
}

fn scale(ns: f64, factor: f64) -> u64 {
    let v = (ns * factor).round();
    if v >= u64::MAX as f64 { u64::MAX / 4 } else { v as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RngStreams, SimDuration};

    #[test]
    fn sample_means_match_the_distributions() {
        let d = SimDuration::from_millis(2);
        for dist in [
            Processing::Constant(d),
            Processing::Exponential(d),
            Processing::Uniform(SimDuration::from_millis(1), SimDuration::from_millis(3)),
            Processing::LogNormal { median: d, sigma: 0.5 },
        ] {
            let mut p = ProcessingTime::new(dist.clone());
            p.set_factor(1.5);
            let mut rng = RngStreams::new(3).stream("c");
            let n = 200_000;
            let mean = (0..n).map(|_| p.sample(&mut rng) as f64).sum::<f64>() / n as f64;
            let expect = p.mean_ns();
            assert!((mean / expect - 1.0).abs() < 0.01, "{dist:?}: {mean} vs {expect}");
        }
    }
}
