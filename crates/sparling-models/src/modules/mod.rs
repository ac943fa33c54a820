//! Building blocks shared by the domain architectures (the authors' `generic_modules` and
//! `LaTeXPredictor` parts), each beside its configuration: the convolutional motif model, the
//! bottleneck, the post-sparse collapse, the encoders and the autoregressive decoder.

pub mod angular;
pub mod collapse;
pub mod decoder;
pub mod encoder;
pub mod lstm;
pub mod motif;
pub mod positional;
pub mod residual;
pub mod sparsity;
