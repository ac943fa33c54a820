//! Backend selection. Every backend runs the same code; only the device differs.

use std::fmt;
use std::str::FromStr;

use burn::prelude::*;

use crate::error::ModelError;

/// A compute backend (`--backend` of the CLI and xtask).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// burn's pure-Rust CPU backend (always available).
    #[default]
    Flex,
    /// libtorch through `burn-tch` (cargo feature `tch`; CPU, or CUDA when libtorch has it).
    Tch,
    /// CUDA through `burn-cuda` (cargo feature `cuda`).
    Cuda,
}

impl Backend {
    /// The names accepted on the command line.
    pub const NAMES: [&'static str; 3] = ["flex", "tch", "cuda"];

    /// The plain (non-autodiff) device of this backend.
    ///
    /// # Errors
    /// [`ModelError::BackendUnavailable`] if the backend was not compiled in.
    pub fn device(self) -> Result<Device, ModelError> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            Backend::Tch => tch_device(),
            Backend::Cuda => cuda_device(),
        }
    }
}

#[cfg(feature = "tch")]
#[allow(deprecated)] // burn marks the tch backend deprecated; it is still the offline GPU path.
fn tch_device() -> Result<Device, ModelError> {
    Ok(Device::libtorch())
}

#[cfg(not(feature = "tch"))]
fn tch_device() -> Result<Device, ModelError> {
    Err(ModelError::BackendUnavailable("tch".into()))
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<Device, ModelError> {
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<Device, ModelError> {
    Err(ModelError::BackendUnavailable("cuda".into()))
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Flex => "flex",
            Backend::Tch => "tch",
            Backend::Cuda => "cuda",
        })
    }
}

impl FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "flex" => Ok(Backend::Flex),
            "tch" => Ok(Backend::Tch),
            "cuda" => Ok(Backend::Cuda),
            other => Err(format!(
                "unknown backend `{other}`; expected one of: {}",
                Backend::NAMES.join(", ")
            )),
        }
    }
}
