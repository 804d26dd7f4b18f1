//! Just enough DER to read an X.509 certificate's serial number, validity and RSA public key,
//! and an SPKI's RSA key. Every read is bounds-checked; malformed input gives `None`.

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OID: u8 = 0x06;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_VERSION: u8 = 0xA0;

/// OID 1.2.840.113549.1.1.1 (rsaEncryption), DER content bytes.
const RSA_ENCRYPTION: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];

/// One TLV: its tag, its content, the whole encoding, and what follows it.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
    rest: &'a [u8],
}

fn read(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    // Multi-byte tags never occur in the structures we read.
    if tag & 0x1F == 0x1F {
        return None;
    }
    let (&first, mut after_len) = after_tag.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, tail) = after_len.split_at_checked(n)?;
        after_len = tail;
        bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    let (content, rest) = after_len.split_at_checked(len)?;
    let header = input.len() - after_len.len();
    let whole = input.get(..header + len)?;
    Some(Tlv {
        tag,
        content,
        whole,
        rest,
    })
}

fn expect(input: &[u8], tag: u8) -> Option<Tlv<'_>> {
    read(input).filter(|t| t.tag == tag)
}

/// What we need from a certificate.
pub(crate) struct CertificateParts<'a> {
    pub(crate) serial: &'a [u8],
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    pub(crate) rsa_public_key: &'a [u8],
}

pub(crate) fn certificate(der: &[u8]) -> Option<CertificateParts<'_>> {
    let cert = expect(der, TAG_SEQUENCE)?;
    let tbs = expect(cert.content, TAG_SEQUENCE)?;
    let mut fields = tbs.content;
    if let Some(version) = read(fields).filter(|t| t.tag == TAG_VERSION) {
        fields = version.rest;
    }
    let serial = expect(fields, TAG_INTEGER)?;
    let signature_alg = expect(serial.rest, TAG_SEQUENCE)?;
    let issuer = expect(signature_alg.rest, TAG_SEQUENCE)?;
    let validity = expect(issuer.rest, TAG_SEQUENCE)?;
    let subject = expect(validity.rest, TAG_SEQUENCE)?;
    let spki = expect(subject.rest, TAG_SEQUENCE)?;

    let not_before = read(validity.content)?;
    let not_after = read(not_before.rest)?;

    let mut serial_bytes = serial.content;
    // Drop the sign byte DER adds when the top bit is set.
    while serial_bytes.len() > 1 && serial_bytes.first() == Some(&0) {
        serial_bytes = serial_bytes.get(1..)?;
    }
    Some(CertificateParts {
        serial: serial_bytes,
        not_before: time(&not_before)?,
        not_after: time(&not_after)?,
        rsa_public_key: spki_rsa_key(spki.whole)?,
    })
}

/// The PKCS#1 `RSAPublicKey` inside an X.509 `SubjectPublicKeyInfo`; `None` if the key is
/// not RSA.
pub(crate) fn spki_rsa_key(der: &[u8]) -> Option<&[u8]> {
    let spki = expect(der, TAG_SEQUENCE)?;
    let algorithm = expect(spki.content, TAG_SEQUENCE)?;
    let oid = expect(algorithm.content, TAG_OID)?;
    if oid.content != RSA_ENCRYPTION {
        return None;
    }
    let bits = expect(algorithm.rest, TAG_BIT_STRING)?;
    let (&unused, key) = bits.content.split_first()?;
    (unused == 0).then_some(key)
}

fn time(t: &Tlv<'_>) -> Option<i64> {
    let text = std::str::from_utf8(t.content).ok()?;
    let text = text.strip_suffix('Z')?;
    let full = match t.tag {
        // RFC 5280: two-digit years 50–99 are 19xx, 00–49 are 20xx.
        TAG_UTC_TIME if text.len() == 12 => {
            let yy: u32 = text.get(..2)?.parse().ok()?;
            format!("{}{text}", if yy >= 50 { "19" } else { "20" })
        }
        TAG_GENERALIZED_TIME if text.len() == 14 => text.to_owned(),
        _ => return None,
    };
    crate::datetime::parse_compact(&full, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_truncated_and_wrong_tags() {
        assert!(read(&[]).is_none());
        assert!(read(&[0x30]).is_none());
        assert!(read(&[0x30, 0x05, 0x00]).is_none());
        assert!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(read(&[0x1F, 0x01, 0x00]).is_none());
        assert!(certificate(&[0x02, 0x01, 0x00]).is_none());
        assert!(spki_rsa_key(&[0x30, 0x00]).is_none());
    }

    #[test]
    fn long_form_length() {
        let mut input = vec![0x04, 0x81, 0x80];
        input.extend(std::iter::repeat_n(7u8, 0x80));
        input.push(0xFF);
        let tlv = read(&input);
        assert!(tlv.is_some());
        if let Some(tlv) = tlv {
            assert_eq!(tlv.content.len(), 0x80);
            assert_eq!(tlv.rest, &[0xFF]);
            assert_eq!(tlv.whole.len(), 0x83);
        }
    }
}
