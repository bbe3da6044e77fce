//! The store conformance suite (`tessera-testkit`'s `store`) on the embedded redb store, in real
//! files in a temporary directory.

tessera_testkit::store_conformance!(tessera_testkit::store::RedbFiles::new());
