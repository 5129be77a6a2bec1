//! The ORM's promises, written once and run on both of its stores: the
//! embedded file and a 3-member etcd cluster (`strata_tests::backend`).
//! Each body takes the [`Backend`] and opens its own database; the macro
//! at the end of this file makes one test per body and backend
//! (`file::name`, `etcd::name`).
//!
//! | file | what |
//! | --- | --- |
//! | `relationships.rs` | one-to-many with its backref, one-to-one, many-to-many link and unlink, the three loading strategies |
//! | `integrity.rs` | unique columns, foreign keys, restrict, cascade and set-null deletes, the integrity check |
//! | `sessions.rs` | commit, rollback, read-only sessions, `transaction` retrying a conflict, automatic keys shared by handles, reopening |
//! | `bank.rs` | bank transfers through the ORM: 8 clients, snapshot auditors |
//!
//! The query suite and the property test run on both stores too, as
//! `orm_queries`/`orm_queries_etcd` and `model_orm`/`model_orm_etcd`;
//! the Hermitage cases on etcd are `isolation_etcd.rs`, the member
//! faults `etcd_faults.rs`.

mod bank;
mod integrity;
mod relationships;
mod sessions;

use strata_tests::backend::Backend;

/// One `#[test]` per body and backend.
macro_rules! on_both_backends {
    ($($module:ident :: $body:ident),* $(,)?) => {
        mod file {
            $(#[test] fn $body() { super::$module::$body(super::Backend::File) })*
        }
        mod etcd {
            $(#[test] fn $body() { super::$module::$body(super::Backend::Etcd) })*
        }
    };
}

on_both_backends!(
    relationships::one_to_many_with_backref,
    relationships::eager_loading_reads_each_table_once,
    relationships::eager_loading_of_many_children_in_one_scan,
    relationships::one_to_one,
    relationships::many_to_many_link_and_unlink,
    integrity::unique_columns_refuse_taken_values,
    integrity::concurrent_adds_of_one_value_give_one_row,
    integrity::foreign_keys_must_name_a_parent,
    integrity::restrict_cascade_and_set_null,
    integrity::refused_writes_change_nothing,
    sessions::commit_rollback_and_read_only,
    sessions::transaction_retries_lost_updates,
    sessions::automatic_keys_are_unique_across_handles,
    sessions::data_and_schemas_survive_a_reopen,
    bank::transfers_with_snapshot_auditors,
);
