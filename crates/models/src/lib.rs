//! museroll models (in progress)
