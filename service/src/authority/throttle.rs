//! The failed-auth throttle (RFC 6749 §10.10): a key (a client id, or a source address) with
//! `limit` failures within `window` seconds of the first is *throttled* until the window ends.
//! The store counts the failures ([`Store::record_failed_auth`](crate::store::Store), shared by
//! every instance of a fleet); what a throttled key means is the authority's decision: its
//! further *failures* are answered `RESOURCE_EXHAUSTED` after a delay, while a right secret is
//! always checked and accepted, so an outsider who knows a client id (ids are not secret, RFC
//! 6749 §2.2) cannot lock that client out.

use core::net::IpAddr;

/// The key a source address is counted under: an IPv4 address, or the /64 network of an IPv6
/// one (one host usually holds a whole /64), with IPv4-mapped addresses read as IPv4.
pub(crate) fn source_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = v6.to_bits() & !((1u128 << 64) - 1);
                IpAddr::V6(core::net::Ipv6Addr::from_bits(network))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_counted_per_ipv4_address_and_per_ipv6_network() {
        let key = |s: &str| source_key(s.parse().unwrap());
        assert_eq!(key("192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
    }
}
