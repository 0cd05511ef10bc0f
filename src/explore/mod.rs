//! Tools to look at activations outside training: [`activations`] lists, describes, tabulates
//! and plots them (the `activations` example).

pub mod activations;
