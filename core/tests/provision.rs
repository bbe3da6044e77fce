//! The gateway provisioning blob (FORMAT.md §7): it round-trips, and every damaged, truncated,
//! extended or mis-built blob is refused with the documented error.

use sha2::{Digest, Sha256};
use tessera_core::{
    AccessToken, Error, GrantId, KeyId, MAX_KEYS, PROVISIONING_MAX_LEN, PROVISIONING_MIN_LEN,
    Provisioning, Purpose, SubKey,
};
use tessera_testkit::vector::{NOW, StepRng, grant, keyring, master};

fn access_key(id: u16) -> SubKey {
    master(id).derive(Purpose::AccessToken)
}

/// A blob built by hand from `entries` (purpose byte, key id, key), with a correct checksum:
/// for the rules that only a well-formed, undamaged blob can break.
#[allow(clippy::unwrap_used, reason = "test helper")]
fn hand_made(version: u8, entries: &[(u8, u16, [u8; 32])]) -> Vec<u8> {
    let mut blob = b"tsrg".to_vec();
    blob.push(version);
    blob.push(u8::try_from(entries.len()).unwrap());
    for (purpose, id, key) in entries {
        blob.push(*purpose);
        blob.extend_from_slice(&id.to_be_bytes());
        blob.extend_from_slice(key);
    }
    let check = Sha256::digest(&blob);
    blob.extend_from_slice(&check);
    blob
}

#[test]
fn round_trip_verifies_tokens_of_every_listed_key() {
    let blob = Provisioning::encode(&[access_key(1), access_key(2)]).unwrap();
    assert_eq!(blob.expose().len(), 6 + 2 * 35 + 32);
    let keys = Provisioning::decode(blob.expose()).unwrap();
    assert_eq!(keys.purpose(), Purpose::AccessToken);
    assert_eq!(
        keys.key_ids().collect::<Vec<_>>(),
        [KeyId::new(1), KeyId::new(2)]
    );
    assert_eq!(keys.active_id(), Some(KeyId::new(2)));

    let g = grant("alice", "read", &[]);
    for signer in [1, 2] {
        let server = keyring(&[1, 2], signer);
        let token = AccessToken::mint(
            server.access_tokens(),
            &g,
            &GrantId::from_bytes([7; 16]),
            60,
            NOW,
            &mut StepRng(0),
        )
        .unwrap();
        let claims = AccessToken::verify(&keys, token.expose(), NOW).unwrap();
        assert_eq!((claims.key_id(), claims.grant()), (KeyId::new(signer), &g));
    }
    let unknown = keyring(&[3], 3);
    let token = AccessToken::mint(
        unknown.access_tokens(),
        &g,
        &GrantId::from_bytes([7; 16]),
        60,
        NOW,
        &mut StepRng(0),
    )
    .unwrap();
    assert_eq!(
        AccessToken::verify(&keys, token.expose(), NOW),
        Err(Error::UnknownKey)
    );
}

#[test]
fn the_blob_holds_exactly_the_documented_bytes() {
    let key = access_key(1);
    let blob = Provisioning::encode(core::slice::from_ref(&key)).unwrap();
    let mut expected = b"tsrg\x01\x01\x02\x00\x01".to_vec();
    expected.extend_from_slice(key.expose_bytes());
    let check = Sha256::digest(&expected);
    expected.extend_from_slice(&check);
    assert_eq!(blob.expose(), expected.as_slice());
    assert_eq!(blob.expose().len(), PROVISIONING_MIN_LEN);
    assert_eq!(hand_made(1, &[(2, 1, *key.expose_bytes())]), expected);
}

#[test]
fn every_truncation_extension_and_bit_flip_is_refused() {
    let keys: Vec<SubKey> = (1..=u16::try_from(MAX_KEYS).unwrap())
        .map(access_key)
        .collect();
    let blob = Provisioning::encode(&keys).unwrap();
    let bytes = blob.expose();
    assert_eq!(bytes.len(), PROVISIONING_MAX_LEN);
    for len in 0..bytes.len() {
        assert_eq!(
            Provisioning::decode(&bytes[..len]).err(),
            Some(Error::MalformedProvisioning),
            "truncated to {len}"
        );
        let mut tail = bytes[len..].to_vec();
        tail.extend_from_slice(bytes);
        assert!(Provisioning::decode(&tail).is_err(), "prefixed by {len}");
    }
    let mut extended = bytes.to_vec();
    extended.push(0);
    assert_eq!(
        Provisioning::decode(&extended).err(),
        Some(Error::MalformedProvisioning)
    );
    for bit in 0..bytes.len() * 8 {
        let mut flipped = bytes.to_vec();
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            Provisioning::decode(&flipped).err(),
            Some(Error::MalformedProvisioning),
            "bit {bit}"
        );
    }
    assert!(Provisioning::decode(bytes).is_ok());
}

#[test]
fn a_key_of_another_purpose_is_refused() {
    for purpose in [
        Purpose::AuthorizationCode,
        Purpose::RefreshToken,
        Purpose::ClientSecret,
        Purpose::LoginChallenge,
    ] {
        assert_eq!(
            Provisioning::encode(&[access_key(1), master(2).derive(purpose)]).err(),
            Some(Error::WrongKeyPurpose),
            "{purpose:?}"
        );
    }
    let key = *access_key(1).expose_bytes();
    for byte in [1, 3, 4, 5] {
        assert_eq!(
            Provisioning::decode(&hand_made(1, &[(byte, 1, key)])).err(),
            Some(Error::WrongKeyPurpose),
            "purpose byte {byte}"
        );
    }
    for byte in [0, 6, 0x80, 0xff] {
        assert_eq!(
            Provisioning::decode(&hand_made(1, &[(2, 1, key), (byte, 2, key)])).err(),
            Some(Error::MalformedProvisioning),
            "purpose byte {byte}"
        );
    }
}

#[test]
fn duplicate_key_ids_are_refused() {
    assert_eq!(
        Provisioning::encode(&[access_key(1), access_key(1)]).err(),
        Some(Error::DuplicateKey)
    );
    let (a, b) = (*access_key(1).expose_bytes(), *access_key(2).expose_bytes());
    assert_eq!(
        Provisioning::decode(&hand_made(1, &[(2, 9, a), (2, 9, b)])).err(),
        Some(Error::DuplicateKey)
    );
}

#[test]
fn version_and_count_are_checked() {
    let key = *access_key(1).expose_bytes();
    assert!(Provisioning::decode(&hand_made(1, &[(2, 1, key)])).is_ok());
    for version in [0, 2, 0xff] {
        assert_eq!(
            Provisioning::decode(&hand_made(version, &[(2, 1, key)])).err(),
            Some(Error::MalformedProvisioning)
        );
    }
    assert_eq!(
        Provisioning::decode(&hand_made(1, &[])).err(),
        Some(Error::MalformedProvisioning)
    );
    let five: Vec<_> = (1..=5).map(|id| (2, id, key)).collect();
    assert_eq!(
        Provisioning::decode(&hand_made(1, &five)).err(),
        Some(Error::MalformedProvisioning)
    );
    // A count that disagrees with the entries that follow.
    let mut blob = hand_made(1, &[(2, 1, key), (2, 2, key)]);
    blob.truncate(blob.len() - 32);
    blob[5] = 1;
    let check = Sha256::digest(&blob);
    blob.extend_from_slice(&check);
    assert_eq!(
        Provisioning::decode(&blob).err(),
        Some(Error::MalformedProvisioning)
    );
    let mut magic = hand_made(1, &[(2, 1, key)]);
    magic[0] = b'T';
    magic.truncate(magic.len() - 32);
    let check = Sha256::digest(&magic);
    magic.extend_from_slice(&check);
    assert_eq!(
        Provisioning::decode(&magic).err(),
        Some(Error::MalformedProvisioning)
    );
}

#[test]
fn encode_refuses_no_keys_and_too_many() {
    assert_eq!(Provisioning::encode(&[]).err(), Some(Error::NoActiveKey));
    let five: Vec<SubKey> = (1..=5).map(access_key).collect();
    assert_eq!(Provisioning::encode(&five).err(), Some(Error::TooManyKeys));
}

#[test]
fn debug_shows_no_key_bytes() {
    let blob = Provisioning::encode(&[access_key(1)]).unwrap();
    let text = format!("{blob:?}");
    assert_eq!(text, "Provisioning { len: 73, .. }");
}
