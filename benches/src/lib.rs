//! Benchmarks of Tessera against its baselines: arrive with the benchmarks issue.
