//! The log record's primitives: unsigned integers as LEB128 varints, signed ones zigzagged first,
//! strings as a length and UTF-8 bytes, decimals as their exact 16-byte form. Readers check every
//! length against what is left, so a cut or corrupt record is refused, never read past.

use rust_decimal::Decimal;

/// Why a record could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the record ends inside a value")]
    Truncated,
    #[error("a varint is longer than 64 bits")]
    VarintTooLong,
    #[error("a string is not UTF-8")]
    NotUtf8,
    #[error("a {what} is not valid: {value:?}")]
    Invalid { what: &'static str, value: String },
    #[error("unknown tag {tag} for a {what}")]
    UnknownTag { what: &'static str, tag: u8 },
    #[error("format version {0} is not one this build reads")]
    UnknownVersion(u8),
    #[error("{0} bytes follow the record's last entry")]
    TrailingBytes(usize),
}

#[derive(Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, value: u8) {
        self.bytes.push(value);
    }

    pub fn u64(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
    }

    pub fn i64(&mut self, value: i64) {
        self.u64(((value << 1) ^ (value >> 63)) as u64);
    }

    pub fn bool(&mut self, value: bool) {
        self.u8(u8::from(value));
    }

    pub fn str(&mut self, value: &str) {
        self.u64(value.len() as u64);
        self.bytes.extend_from_slice(value.as_bytes());
    }

    pub fn decimal(&mut self, value: Decimal) {
        self.bytes.extend_from_slice(&value.serialize());
    }

    /// `None` as 0, `Some` as 1 and the value.
    pub fn option<T>(&mut self, value: Option<T>, mut put: impl FnMut(&mut Writer, T)) {
        match value {
            None => self.u8(0),
            Some(value) => {
                self.u8(1);
                put(self, value);
            }
        }
    }
}

pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.bytes.len() {
            return Err(WireError::Truncated);
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(taken)
    }

    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    pub fn u64(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(WireError::VarintTooLong);
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::VarintTooLong)
    }

    pub fn i64(&mut self) -> Result<i64, WireError> {
        let raw = self.u64()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    pub fn bool(&mut self) -> Result<bool, WireError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(WireError::UnknownTag { what: "bool", tag }),
        }
    }

    /// A length, checked against what is left so a corrupt one cannot ask for a huge allocation.
    pub fn length(&mut self) -> Result<usize, WireError> {
        let n = self.u64()?;
        usize::try_from(n).ok().filter(|n| *n <= self.bytes.len()).ok_or(WireError::Truncated)
    }

    pub fn str(&mut self) -> Result<&'a str, WireError> {
        let n = self.length()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| WireError::NotUtf8)
    }

    pub fn string(&mut self) -> Result<String, WireError> {
        self.str().map(str::to_string)
    }

    pub fn decimal(&mut self) -> Result<Decimal, WireError> {
        let bytes: [u8; 16] = self.take(16)?.try_into().expect("took 16");
        Ok(Decimal::deserialize(bytes))
    }

    pub fn option<T>(
        &mut self,
        mut get: impl FnMut(&mut Reader<'a>) -> Result<T, WireError>,
    ) -> Result<Option<T>, WireError> {
        match self.u8()? {
            0 => Ok(None),
            1 => get(self).map(Some),
            tag => Err(WireError::UnknownTag { what: "option", tag }),
        }
    }

    /// A value parsed from its text, refused with what it was if the parse fails.
    pub fn parsed<T, E>(
        &mut self,
        what: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, WireError> {
        let text = self.str()?;
        parse(text).map_err(|_| WireError::Invalid { what, value: text.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn every_primitive_reads_back_as_written(
            unsigned in any::<u64>(),
            signed in any::<i64>(),
            text in ".{0,40}",
            mantissa in any::<i64>(),
            scale in 0u32..=10,
            maybe in proptest::option::of(any::<i64>()),
        ) {
            let decimal = Decimal::new(mantissa, scale);
            let mut w = Writer::default();
            w.u64(unsigned);
            w.i64(signed);
            w.str(&text);
            w.decimal(decimal);
            w.option(maybe, |w, v| w.i64(v));
            let mut r = Reader::new(&w.bytes);
            prop_assert_eq!(r.u64().unwrap(), unsigned);
            prop_assert_eq!(r.i64().unwrap(), signed);
            prop_assert_eq!(r.str().unwrap(), text.as_str());
            let read = r.decimal().unwrap();
            prop_assert_eq!(read, decimal);
            prop_assert_eq!(read.scale(), decimal.scale(), "exact, scale and all");
            prop_assert_eq!(r.option(|r| r.i64()).unwrap(), maybe);
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn a_cut_record_is_refused_never_read_past(text in ".{1,40}", cut in 0usize..40) {
            let mut w = Writer::default();
            w.str(&text);
            w.u64(u64::MAX);
            let cut = cut.min(w.bytes.len() - 1);
            let mut r = Reader::new(&w.bytes[..cut]);
            let whole = r.str().and_then(|_| r.u64());
            prop_assert!(whole.is_err());
        }
    }

    #[test]
    fn a_varint_past_64_bits_is_refused() {
        let mut r = Reader::new(&[0xff; 11]);
        assert_eq!(r.u64(), Err(WireError::VarintTooLong));
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
        assert_eq!(r.u64(), Err(WireError::VarintTooLong));
    }

    #[test]
    fn a_huge_length_is_refused_before_any_allocation() {
        let mut w = Writer::default();
        w.u64(u64::MAX / 2);
        assert_eq!(Reader::new(&w.bytes).str(), Err(WireError::Truncated));
    }
}
