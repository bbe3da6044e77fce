//! The PKCE pair of RFC 7636 Appendix B, which every flow in the tests and fuzz targets uses.

/// RFC 7636 Appendix B: the code verifier.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// RFC 7636 Appendix B: the `S256` challenge of [`VERIFIER`].
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
