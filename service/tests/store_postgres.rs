//! The store conformance suite (`tessera-testkit`'s `store`) on PostgreSQL: a real server (CI's
//! `TESSERA_TEST_PG_URL`, or one the test kit starts from the system's binaries), each test in a
//! database of its own.

tessera_testkit::store_conformance!(tessera_testkit::postgres::PostgresDatabase::new());
