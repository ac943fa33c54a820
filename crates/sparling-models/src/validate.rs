//! Range checks shared by the configuration types, each naming the field it rejects, and the
//! serde defaults they share.

use crate::error::ModelError;

/// `value` must be above zero.
pub(crate) fn positive(field: &str, value: usize) -> Result<(), ModelError> {
    if value == 0 {
        return Err(ModelError::invalid(field, value, "must be > 0"));
    }
    Ok(())
}

/// `value` must be a finite number above zero.
pub(crate) fn finite_positive(field: &str, value: f64) -> Result<(), ModelError> {
    if !(value.is_finite() && value > 0.0) {
        return Err(ModelError::invalid(
            field,
            value,
            "must be a finite number > 0",
        ));
    }
    Ok(())
}

/// Serde default of a count that is 1 unless configured (`#[serde(default = "one")]`).
pub(crate) fn one() -> usize {
    1
}

/// Leave a count of 1 out of a written configuration or report.
pub(crate) fn is_one(value: &usize) -> bool {
    *value == 1
}
