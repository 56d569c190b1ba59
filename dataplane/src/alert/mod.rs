//! Alerts on the worker's side: the fixed-size [`AlertEvent`] ([`event`]), the bounded queue to
//! the alert thread ([`queue`]), the worker's folds of repeats ([`folds`]), and what makes two
//! alerts repeats of each other ([`key`]).
pub mod event;
pub mod folds;
pub mod key;
pub mod queue;

pub use event::{AlertEvent, FRAME_BYTES};
pub use folds::{fold_for, AlertFolds, FOLD_SETS, FOLD_WAYS};
pub use queue::AlertQueue;
