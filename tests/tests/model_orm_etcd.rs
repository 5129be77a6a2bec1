//! The ORM's property test (`model_orm.rs`), unchanged, on the etcd
//! backend: built as this binary, `model_orm.rs` picks etcd
//! (`Backend::of_suite`) and runs an eighth of its cases
//! (`Backend::proptest_cases`), each on its own key prefix; "survives a
//! reopen" connects again to the same prefix.

#[path = "model_orm.rs"]
mod model_orm;
