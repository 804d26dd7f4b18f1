//! Golden vectors from `shared/vectors/PUBLIC.md` for every crypto primitive that has one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use tixpay_core::crypto::{
    self, AesGcmKey, Certificate, CryptoError, HmacAlgorithm, HmacKey, RsaPrivateKey, RsaPublicKey,
    base64, hex,
};
use tixpay_core::{SortedParams, datetime};

const W1_KEY: &str = include_str!("fixtures/w1_private_key.pem");
const W1_PUBLIC: &str = include_str!("fixtures/w1_public_key.pem");
const W1_CERT: &str = include_str!("fixtures/w1_cert.pem");
const EC_PUBLIC: &str = include_str!("fixtures/ec_public_key.pem");
const W1_SIGNATURE: &str = "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoVz+pp4hAm6pHU4ld815U4jsKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqIMzoZUguLli/K8V29QiOhuH6IEqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51qMN/RAJbknXG23bSlObuTCN7Ndj1aJGH6/L+hdwfLpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg==";

#[test]
fn w1_rsa_sha256_signature() {
    let key = RsaPrivateKey::from_pkcs8_pem(W1_KEY).unwrap();
    let sig = key.sign_sha256(b"source").unwrap();
    // PKCS#1 v1.5 is deterministic: the signature is the vector's exactly.
    assert_eq!(base64::encode(&sig), W1_SIGNATURE);
}

#[test]
fn w1_verification_with_spki_certificate_and_derived_key() {
    let sig = base64::decode(W1_SIGNATURE).unwrap();
    let from_pem = RsaPublicKey::from_spki_pem(W1_PUBLIC).unwrap();
    let cert = Certificate::from_pem(W1_CERT).unwrap();
    let derived = RsaPrivateKey::from_pkcs8_pem(W1_KEY)
        .unwrap()
        .public_key()
        .unwrap();
    for key in [&from_pem, cert.public_key(), &derived] {
        assert_eq!(key.verify_sha256(b"source", &sig), Ok(()));
        assert_eq!(
            key.verify_sha256(b"sourcE", &sig),
            Err(CryptoError::BadSignature)
        );
        let mut tampered = sig.clone();
        tampered[0] ^= 1;
        assert_eq!(
            key.verify_sha256(b"source", &tampered),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            key.verify_sha256(b"source", b""),
            Err(CryptoError::BadSignature)
        );
    }
    // The SPKI we write back parses to the same key.
    let round = RsaPublicKey::from_spki_pem(&derived.to_spki_pem()).unwrap();
    assert_eq!(round.verify_sha256(b"source", &sig), Ok(()));
}

#[test]
fn w1_certificate_serial_and_validity() {
    let cert = Certificate::from_pem(W1_CERT).unwrap();
    assert_eq!(cert.serial(), "5157F09EFDC096DE15EBE81A47057A7232F1B8E1");
    // notAfter is in 2126: a GeneralizedTime, parsed like UTCTime.
    assert!(cert.not_after() > datetime::parse_rfc3339("2126-01-01T00:00:00Z").unwrap());
    assert!(cert.not_before() < cert.not_after());
    assert!(cert.is_valid_at(cert.not_before()));
    assert!(!cert.is_valid_at(cert.not_before() - 1));
}

#[test]
fn w2_messages_sign_and_verify() {
    let key = RsaPrivateKey::from_pkcs8_pem(W1_KEY).unwrap();
    let public = key.public_key().unwrap();
    for message in [
        &b"GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n"[..],
        b"POST\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\nHello World!\n\n",
    ] {
        let sig = key.sign_sha256(message).unwrap();
        assert_eq!(sig.len(), 256);
        assert_eq!(public.verify_sha256(message, &sig), Ok(()));
    }
}

#[test]
fn rejects_bad_keys() {
    assert!(matches!(
        RsaPrivateKey::from_pkcs8_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        ),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        RsaPrivateKey::from_pkcs8_pem(W1_PUBLIC),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        RsaPublicKey::from_spki_pem(EC_PUBLIC),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        Certificate::from_pem(W1_PUBLIC),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        Certificate::from_der(&[0x30, 0x03, 0x02, 0x01, 0x01]),
        Err(CryptoError::InvalidKey(_))
    ));
    // The error text never contains key material.
    let err = RsaPrivateKey::from_pkcs8_pem(W1_PUBLIC)
        .err()
        .unwrap()
        .to_string();
    assert!(!err.contains("MIIB"), "{err}");
}

#[test]
fn w3_aes_256_gcm() {
    let key = AesGcmKey::new(b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").unwrap();
    let ct = base64::decode("ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=").unwrap();
    assert_eq!(
        key.open(b"uluk4a9R25RW", b"associatedData", &ct).unwrap(),
        b"message"
    );
    assert_eq!(
        key.seal(b"uluk4a9R25RW", b"associatedData", b"message")
            .unwrap(),
        ct
    );
    // Negative cases of the vector.
    assert_eq!(
        key.open(b"uluk4a9R25RW", b"bad-associatedData", &ct),
        Err(CryptoError::DecryptFailed)
    );
    assert_eq!(
        key.open(b"bad-4a9R25RW", b"associatedData", &ct),
        Err(CryptoError::DecryptFailed)
    );
    let mut tampered = ct.clone();
    tampered[0] ^= 0x80;
    assert_eq!(
        key.open(b"uluk4a9R25RW", b"associatedData", &tampered),
        Err(CryptoError::DecryptFailed)
    );
    // Truncated below the tag length.
    assert_eq!(
        key.open(b"uluk4a9R25RW", b"associatedData", &ct[..10]),
        Err(CryptoError::DecryptFailed)
    );
    // A key of any other length is refused (wechatpay-go would silently use AES-128).
    for len in [0, 16, 24, 31, 33] {
        assert!(matches!(
            AesGcmKey::new(&vec![b'k'; len]),
            Err(CryptoError::InvalidKey(_))
        ));
    }
}

#[test]
fn w4_md5_and_hmac_sha256() {
    let params: SortedParams = [
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ]
    .into_iter()
    .collect();
    let key = "192006250b4c09247ec02edce69f6a2d";
    let signed = params.to_string_with_suffix("key", key);
    assert_eq!(
        signed,
        "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d"
    );
    assert_eq!(
        crypto::md5_hex_upper(signed.as_bytes()),
        "9A0A8659F005D6984697E2CA0A9CF3B7"
    );
    let expected = "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6";
    assert_eq!(
        hex::encode_upper(crypto::hmac_sha256(key.as_bytes(), signed.as_bytes())),
        expected
    );
    let prepared = HmacKey::new(HmacAlgorithm::Sha256, key.as_bytes());
    assert_eq!(
        hex::encode_upper(prepared.sign(signed.as_bytes())),
        expected
    );
}

#[test]
fn j1_hmac_sha1() {
    let string_to_sign = "POST /openapi/index.php?method=creatOrder\nWed, 06 May 2015 10:34:20 GMT";
    let mac = crypto::hmac_sha1(
        b"0123456789abcdef-not-a-real-secret",
        string_to_sign.as_bytes(),
    );
    assert_eq!(base64::encode(mac), "LPFj3zf7Bhbfu52GjJD8TVAmLz0=");
    assert_eq!(
        datetime::format_http_date(
            datetime::parse_http_date("Wed, 06 May 2015 10:34:20 GMT").unwrap()
        ),
        "Wed, 06 May 2015 10:34:20 GMT"
    );
}

#[test]
fn l1_md5() {
    let mut p = SortedParams::new();
    p.push("service", "unified_refund")
        .push("merchant_id", "0000000018")
        .push("leshua_order_id", "1812072242293655")
        .push("merchant_refund_id", "R20240101001")
        .push("refund_amount", "100")
        .push("nonce_str", "a1b2c3d4e5f6")
        .push("notify_url", "https://example.com/leshua/refund_notify")
        .push("third_order_id", "");
    let p = p.skip_empty(true).exclude(&["sign"]);
    let signed = p.to_string_with_suffix("key", "TEST_TRADE_KEY_NOT_REAL");
    assert_eq!(
        signed,
        "leshua_order_id=1812072242293655&merchant_id=0000000018&merchant_refund_id=R20240101001&nonce_str=a1b2c3d4e5f6&notify_url=https://example.com/leshua/refund_notify&refund_amount=100&service=unified_refund&key=TEST_TRADE_KEY_NOT_REAL"
    );
    assert_eq!(
        crypto::md5_hex_upper(signed.as_bytes()),
        "4DA0E6DE5580C328C1CC2D7C037CB8D9"
    );
}

#[test]
fn h1_h2_hawk_primitives() {
    // The Hawk MAC is base64(HMAC-SHA256(key, normalized)); the payload hash is
    // base64(SHA-256(payload string)).
    let key = b"werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn";
    let normalized = "hawk.1.header\n1353832234\nj4h3g2\nGET\n/resource/1?b=1&a=2\nexample.com\n8000\n\nsome-app-ext-data\n";
    assert_eq!(
        base64::encode(crypto::hmac_sha256(key, normalized.as_bytes())),
        "6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE="
    );
    assert_eq!(
        base64::encode(crypto::sha256(
            b"hawk.1.payload\ntext/plain\nThank you for flying Hawk\n"
        )),
        "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY="
    );
    // The ticket system's key derivation: UPPER_MD5("123456").
    assert_eq!(
        crypto::md5_hex_upper(b"123456"),
        "E10ADC3949BA59ABBE56E057F20F883E"
    );
}
