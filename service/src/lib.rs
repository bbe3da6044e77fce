//! The Tessera gRPC server, storage and CLI: arrives with the service issue.
