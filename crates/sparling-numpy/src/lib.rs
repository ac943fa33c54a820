//! # sparling-numpy
//!
//! numpy's legacy `np.random.RandomState` stream and the float reductions that depend on
//! numpy's summation order, bit for bit: the data generators (`sparling-data`) draw every
//! sample from it, and the bootstrap intervals (`sparling-metrics`) resample with it, as the
//! authors' Python does. A leaf crate, so that both use one implementation without either
//! depending on the other.
//!
//! * [`NumpyRandomState`]: MT19937 (`init_genrand` seeding, a block generator) with numpy's
//!   sampling algorithms (`random_sample`, masked-rejection `randint`, `choice`, `shuffle`,
//!   `permutation`, weighted choice).
//! * [`numpy_sum`], [`numpy_mean`]: `np.sum` / `np.mean` of a contiguous float64 array
//!   (numpy's pairwise summation).

#![warn(missing_docs)]

mod mt19937;
mod random_state;

pub use random_state::{
    EmptyRange, InvalidWeights, NumpyRandomState, UniformThreshold, WeightedChoice, numpy_mean,
    numpy_sum,
};
