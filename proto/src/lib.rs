//! The Tessera gRPC contract and its generated types: arrives with the service issue.
