//! NumPy's array files: `.npy` (a header naming the element type, the shape and the order, then
//! the elements) and `.npz` (a zip archive of `.npy` members), read as streams and written as
//! NumPy writes them. Nothing here knows what the arrays mean: [`crate::npz`] (pypianoroll's
//! songs) and [`crate::dataset`] (MuseGAN's phrase arrays) are built on it.
//!
//! Errors are [`Error::Npz`]: every array museroll reads comes from a `.npz`-style file.

use crate::error::{Error, Result};
use std::io::{Cursor, Read, Write};

/// Largest `.npy` header accepted: version 1.0's 16-bit length (NumPy itself stops at 10 000).
const MAX_HEADER: usize = 1 << 16;
/// Widest element accepted, in bytes.
const MAX_ITEM: usize = 8;
fn bad(message: impl Into<String>) -> Error {
    Error::Npz(message.into())
}

// ---------------------------------------------------------------------------------------------
// Archives of arrays.

/// The zip archive. Members are read as streams, never held whole (see [`NpyReader`]).
#[derive(Clone)]
pub(crate) struct Archive<'a> {
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
}

/// A member being decompressed.
pub(crate) type Member<'z, 'a> = zip::read::ZipFile<'z, Cursor<&'a [u8]>>;

impl<'a> Archive<'a> {
    pub(crate) fn open(bytes: &'a [u8]) -> Result<Archive<'a>> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| bad(format!("not a zip archive ({e})")))?;
        Ok(Archive { zip })
    }

    /// The member `name`, if present.
    fn find(&mut self, name: &str) -> Result<Option<Member<'_, 'a>>> {
        match self.zip.index_for_name(name) {
            None => Ok(None),
            Some(index) => self
                .zip
                .by_index(index)
                .map(Some)
                .map_err(|e| bad(format!("{name}: {e}"))),
        }
    }

    /// The whole member `name`, `None` when absent; refused past `cap` decompressed bytes,
    /// however small the archive says it is.
    pub(crate) fn member(&mut self, name: &str, cap: usize) -> Result<Option<Vec<u8>>> {
        let Some(file) = self.find(name)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.take(cap as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        if bytes.len() > cap {
            return Err(bad(format!(
                "{name} expands to more than the {cap} bytes it may hold"
            )));
        }
        Ok(Some(bytes))
    }

    /// The array `key` (member `key.npy`, or `key` itself as NumPy also accepts) of at most
    /// `max_len` elements, ready to be read; `None` when absent.
    pub(crate) fn array(
        &mut self,
        key: &str,
        max_len: usize,
    ) -> Result<Option<NpyReader<Member<'_, 'a>>>> {
        let npy_name = format!("{key}.npy");
        let name = if self.zip.index_for_name(&npy_name).is_some() {
            npy_name
        } else {
            key.to_string()
        };
        match self.find(&name)? {
            None => Ok(None),
            Some(file) => NpyReader::open(name, file, max_len).map(Some),
        }
    }

    pub(crate) fn required_array(
        &mut self,
        key: &str,
        max_len: usize,
    ) -> Result<NpyReader<Member<'_, 'a>>> {
        self.array(key, max_len)?
            .ok_or_else(|| bad(format!("{key}.npy is missing")))
    }
}

/// A zip archive of `members`, deflated or stored.
pub(crate) fn zip_members(members: Vec<(String, Vec<u8>)>, compressed: bool) -> Result<Vec<u8>> {
    let method = if compressed {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let failed = |e: &dyn std::fmt::Display| bad(format!("cannot write the archive: {e}"));
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
        zip.start_file(name, options).map_err(|e| failed(&e))?;
        zip.write_all(&bytes).map_err(|e| failed(&e))?;
    }
    Ok(zip.finish().map_err(|e| failed(&e))?.into_inner())
}

// ---------------------------------------------------------------------------------------------
// The .npy format: magic `\x93NUMPY`, version, header length, a Python-literal dict
// `{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }` padded to 64 bytes, then the data.

/// Kinds of element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Signed,
    Unsigned,
    Float,
}

/// An element type: kind, width in bytes, byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dtype {
    pub(crate) kind: Kind,
    /// Bytes per element.
    pub(crate) size: usize,
    pub(crate) big_endian: bool,
}

impl Dtype {
    pub(crate) const BOOL: Dtype = Dtype::little(Kind::Bool, 1);
    pub(crate) const U1: Dtype = Dtype::little(Kind::Unsigned, 1);
    pub(crate) const I4: Dtype = Dtype::little(Kind::Signed, 4);
    pub(crate) const I8: Dtype = Dtype::little(Kind::Signed, 8);
    pub(crate) const F8: Dtype = Dtype::little(Kind::Float, 8);

    pub(crate) const fn little(kind: Kind, size: usize) -> Dtype {
        Dtype {
            kind,
            size,
            big_endian: false,
        }
    }

    /// Parses a NumPy `descr` such as `<i4`, `|b1`, `>f8`.
    fn parse(descr: &str) -> std::result::Result<Dtype, String> {
        let unsupported = || format!("unsupported dtype '{descr}'");
        let bytes = descr.as_bytes();
        let (order, kind, size) = match bytes {
            [order, kind, size] => (*order, *kind, *size),
            _ => return Err(unsupported()),
        };
        let size = match size {
            b'1' => 1,
            b'2' => 2,
            b'4' => 4,
            b'8' => 8,
            _ => return Err(unsupported()),
        };
        let big_endian = match order {
            b'<' | b'|' => false,
            b'>' => true,
            _ => return Err(unsupported()),
        };
        let kind = match (kind, size) {
            (b'b', 1) => Kind::Bool,
            (b'i', _) => Kind::Signed,
            (b'u', _) => Kind::Unsigned,
            (b'f', 4 | 8) => Kind::Float,
            _ => return Err(unsupported()),
        };
        Ok(Dtype {
            kind,
            size,
            big_endian,
        })
    }

    fn descr(self) -> String {
        let order = if self.size == 1 {
            '|'
        } else if self.big_endian {
            '>'
        } else {
            '<'
        };
        let kind = match self.kind {
            Kind::Bool => 'b',
            Kind::Signed => 'i',
            Kind::Unsigned => 'u',
            Kind::Float => 'f',
        };
        format!("{order}{kind}{}", self.size)
    }

    /// The raw bits of one element, widened to 64.
    fn bits(self, bytes: &[u8]) -> u64 {
        let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
        if self.big_endian {
            bytes.iter().fold(0, fold)
        } else {
            bytes.iter().rev().fold(0, fold)
        }
    }
}

/// A `.npy` array read element by element from a stream, so that a member is never held whole:
/// memory stays bounded by the roll being built, however far a member inflates.
///
/// The Fortran-order flag is read but not kept: every array pypianoroll stores is a vector `(n,)`
/// or a column `(n, 1)`, whose bytes are the same in either order, and [`NpyReader::vector_len`]
/// refuses every other shape. ([`crate::dataset`] reads MuseGAN's phrase arrays with it too, and
/// checks the flag there.)
pub(crate) struct NpyReader<R> {
    /// The member's name, for messages.
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    fortran_order: bool,
    /// Number of elements.
    len: usize,
    /// Elements not read yet.
    left: usize,
    input: std::io::BufReader<R>,
}

impl<R: Read> NpyReader<R> {
    /// Reads the header of the array `name`; refuses one of more than `max_len` elements.
    pub(crate) fn open(name: String, input: R, max_len: usize) -> Result<NpyReader<R>> {
        let mut input = std::io::BufReader::with_capacity(1 << 16, input);
        let (dtype, shape, fortran_order) =
            read_header(&mut input).map_err(|e| bad(format!("{name}: {e}")))?;
        let len = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| bad(format!("{name}: the shape {shape:?} overflows")))?;
        if len > max_len {
            return Err(bad(format!(
                "{name} has {len} elements, more than the {max_len} expected"
            )));
        }
        Ok(NpyReader {
            name,
            dtype,
            shape,
            fortran_order,
            len,
            left: len,
            input,
        })
    }

    /// The shape.
    pub(crate) fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The array's name, for messages.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The element type.
    pub(crate) fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// True when the elements are stored in Fortran (column-major) order.
    pub(crate) fn fortran_order(&self) -> bool {
        self.fortran_order
    }

    /// The length of a vector `(n,)` or column `(n, 1)` (the shapes pypianoroll writes).
    pub(crate) fn vector_len(&self) -> Result<usize> {
        match self.shape[..] {
            [n] | [n, 1] => Ok(n),
            _ => Err(bad(format!(
                "{}: shape {:?}, expected (n,) or (n, 1)",
                self.name, self.shape
            ))),
        }
    }

    pub(crate) fn require_integers(&self) -> Result<()> {
        if self.dtype.kind == Kind::Float {
            return Err(bad(format!(
                "{}: integers expected, found {}",
                self.name,
                self.dtype.descr()
            )));
        }
        Ok(())
    }

    /// The next element's bits, widened to 64.
    fn bits(&mut self) -> Result<u64> {
        if self.left == 0 {
            return Err(bad(format!("{}: read past the last element", self.name)));
        }
        let mut buf = [0u8; MAX_ITEM];
        let element = &mut buf[..self.dtype.size];
        self.input.read_exact(element).map_err(|e| {
            bad(format!(
                "{}: the data ends after {} of {} elements ({e})",
                self.name,
                self.len - self.left,
                self.len
            ))
        })?;
        self.left -= 1;
        Ok(self.dtype.bits(element))
    }

    /// The next element as an integer (booleans as 0/1; unsigned values past `i64::MAX`
    /// saturate, which every later range check refuses). Call [`NpyReader::require_integers`]
    /// first: floats read here as their raw bits.
    pub(crate) fn int(&mut self) -> Result<i64> {
        let bits = self.bits()?;
        let shift = 64 - 8 * self.dtype.size as u32;
        Ok(match self.dtype.kind {
            Kind::Signed => ((bits << shift) as i64) >> shift,
            _ => i64::try_from(bits).unwrap_or(i64::MAX),
        })
    }

    /// The next element as a floating-point number (booleans as 0/1).
    pub(crate) fn float(&mut self) -> Result<f64> {
        let bits = self.bits()?;
        Ok(match (self.dtype.kind, self.dtype.size) {
            (Kind::Float, 4) => f64::from(f32::from_bits(bits as u32)),
            (Kind::Float, _) => f64::from_bits(bits),
            (Kind::Signed, size) => {
                let shift = 64 - 8 * size as u32;
                (((bits << shift) as i64) >> shift) as f64
            }
            _ => bits as f64,
        })
    }

    /// All elements of an integer array (a small one: shape, indptr).
    pub(crate) fn ints(mut self) -> Result<Vec<i64>> {
        self.require_integers()?;
        let values = (0..self.len)
            .map(|_| self.int())
            .collect::<Result<Vec<_>>>()?;
        self.finish()?;
        Ok(values)
    }

    /// Checks that every element was read and nothing follows (which also lets the zip reader
    /// verify the member's checksum).
    pub(crate) fn finish(mut self) -> Result<()> {
        if self.left > 0 {
            return Err(bad(format!(
                "{}: {} elements left unread",
                self.name, self.left
            )));
        }
        let mut probe = [0u8; 1];
        match self.input.read(&mut probe) {
            Ok(0) => Ok(()),
            Ok(_) => Err(bad(format!(
                "{}: data continues past its {} elements",
                self.name, self.len
            ))),
            Err(e) => Err(bad(format!("{}: {e}", self.name))),
        }
    }
}

/// Reads the magic, version and header dict of a `.npy` stream: dtype, shape, Fortran order.
fn read_header(input: &mut impl Read) -> std::result::Result<(Dtype, Vec<usize>, bool), String> {
    let truncated = |_| "truncated .npy header".to_string();
    let mut start = Vec::with_capacity(8);
    input
        .by_ref()
        .take(8)
        .read_to_end(&mut start)
        .map_err(|e| e.to_string())?;
    if start.iter().zip(b"\x93NUMPY").any(|(a, b)| a != b) {
        return Err("not a .npy array (no \\x93NUMPY magic)".into());
    }
    let &[_, _, _, _, _, _, major, minor] = &start[..] else {
        return Err("truncated .npy header".into());
    };
    let header_len = match major {
        1 => {
            let mut len = [0u8; 2];
            input.read_exact(&mut len).map_err(truncated)?;
            usize::from(u16::from_le_bytes(len))
        }
        2 | 3 => {
            let mut len = [0u8; 4];
            input.read_exact(&mut len).map_err(truncated)?;
            u32::from_le_bytes(len) as usize
        }
        _ => return Err(format!("unsupported .npy version {major}.{minor}")),
    };
    if header_len > MAX_HEADER {
        return Err(format!("a .npy header of {header_len} bytes is too long"));
    }
    let mut header = vec![0u8; header_len];
    input.read_exact(&mut header).map_err(truncated)?;
    let header = std::str::from_utf8(&header).map_err(|_| "the .npy header is not text")?;
    parse_header(header)
}

/// `descr`, `shape` and `fortran_order` of a `.npy` header dict (a Python literal).
fn parse_header(header: &str) -> std::result::Result<(Dtype, Vec<usize>, bool), String> {
    let mut p = Literal {
        text: header.as_bytes(),
        pos: 0,
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.expect(b'{')?;
    while !p.eat(b'}') {
        let key = p.string()?;
        p.expect(b':')?;
        match key.as_str() {
            "descr" => descr = Some(p.string()?),
            "fortran_order" => fortran = Some(p.boolean()?),
            "shape" => shape = Some(p.tuple()?),
            other => return Err(format!("unknown .npy header key '{other}'")),
        }
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    let (Some(descr), Some(fortran), Some(shape)) = (descr, fortran, shape) else {
        return Err("the .npy header lacks descr, fortran_order or shape".into());
    };
    Ok((Dtype::parse(&descr)?, shape, fortran))
}

/// A cursor over the Python literal of a `.npy` header.
struct Literal<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Literal<'_> {
    fn skip_space(&mut self) {
        while self.text.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_space();
        let found = self.text.get(self.pos) == Some(&c);
        self.pos += usize::from(found);
        found
    }

    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "bad .npy header: '{}' expected at byte {}",
                c as char, self.pos
            ))
        }
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        self.skip_space();
        let quote = match self.text.get(self.pos) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => {
                return Err(format!(
                    "bad .npy header: string expected at byte {}",
                    self.pos
                ))
            }
        };
        let start = self.pos + 1;
        let len = self.text[start..]
            .iter()
            .position(|&c| c == quote)
            .ok_or("bad .npy header: unterminated string")?;
        self.pos = start + len + 1;
        Ok(String::from_utf8_lossy(&self.text[start..start + len]).into_owned())
    }

    fn word(&mut self) -> &[u8] {
        self.skip_space();
        let start = self.pos;
        while self
            .text
            .get(self.pos)
            .is_some_and(u8::is_ascii_alphanumeric)
        {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    fn boolean(&mut self) -> std::result::Result<bool, String> {
        match self.word() {
            b"True" => Ok(true),
            b"False" => Ok(false),
            _ => Err("bad .npy header: True or False expected".into()),
        }
    }

    fn tuple(&mut self) -> std::result::Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        while !self.eat(b')') {
            let word = self.word();
            // Python 2 wrote long integers as `3L`.
            let digits = word.strip_suffix(b"L").unwrap_or(word);
            let dim = std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse::<usize>().ok())
                .ok_or("bad .npy header: shape must hold whole numbers")?;
            dims.push(dim);
            if !self.eat(b',') {
                self.expect(b')')?;
                break;
            }
        }
        Ok(dims)
    }
}

/// A `.npy` file (version 1.0, header exactly as NumPy 2 pads it) of little-endian `data`.
pub(crate) fn encode(dtype: Dtype, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_text = match shape {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape_text}, }}",
        dtype.descr()
    );
    // NumPy leaves room for the first axis to grow to 21 digits, then pads to 64 bytes.
    if let Some(first) = shape.first() {
        header.push_str(&" ".repeat(21usize.saturating_sub(first.to_string().len())));
    }
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(64 - unpadded % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
/// Arrays written for tests, here and in [`crate::npz`].
pub(crate) mod tests_support {
    use super::*;

    /// A vector of `values` as `dtype` (of either byte order).
    pub(crate) fn ints(dtype: Dtype, values: &[i64]) -> Vec<u8> {
        let data: Vec<u8> = values
            .iter()
            .flat_map(|v| {
                let le = v.to_le_bytes();
                let mut bytes = le[..dtype.size].to_vec();
                if dtype.big_endian {
                    bytes.reverse();
                }
                bytes
            })
            .collect();
        encode(dtype, &[values.len()], &data)
    }

    /// A vector of float64 `values`.
    pub(crate) fn f64s(values: &[f64]) -> Vec<u8> {
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        encode(Dtype::F8, &[values.len()], &data)
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::{f64s, ints};
    use super::*;

    fn raw_npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn npy_header_is_padded_like_numpy() {
        // The first member of pypianoroll_uncompressed.npz, as NumPy 2.4 wrote it.
        let bytes = encode(Dtype::F8, &[40], &[0; 320]);
        let header = &bytes[..128];
        let mut expected = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, \
                             'shape': (40,), }"
            .to_vec();
        expected.resize(127, b' ');
        expected.push(b'\n');
        assert_eq!(header, &expected[..]);
        let two_d = encode(Dtype::I8, &[40, 1], &[0; 320]);
        assert!(two_d.starts_with(
            b"\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, 'shape': (40, 1), }"
        ));
        assert_eq!((two_d.len() - 320) % 64, 0);
    }

    fn reader(bytes: &[u8]) -> Result<NpyReader<&[u8]>> {
        NpyReader::open("x.npy".into(), bytes, usize::MAX)
    }

    /// A whole `.npy` array: dtype, shape and elements as floats.
    fn parse(bytes: &[u8]) -> Result<(Dtype, Vec<usize>, Vec<f64>)> {
        let mut r = reader(bytes)?;
        let values = (0..r.len).map(|_| r.float()).collect::<Result<Vec<_>>>()?;
        let (dtype, shape) = (r.dtype, r.shape.clone());
        r.finish()?;
        Ok((dtype, shape, values))
    }

    #[test]
    fn npy_decodes_every_supported_dtype() {
        let be = |kind, size| Dtype {
            kind,
            size,
            big_endian: true,
        };
        let cases: [(Dtype, Vec<i64>); 6] = [
            (Dtype::little(Kind::Signed, 1), vec![-128, 0, 127]),
            (be(Kind::Signed, 2), vec![-300, 7, 32767]),
            (Dtype::little(Kind::Unsigned, 2), vec![0, 65535]),
            (Dtype::I4, vec![-1, i64::from(i32::MAX)]),
            (be(Kind::Unsigned, 4), vec![4_000_000_000]),
            (be(Kind::Signed, 8), vec![i64::MIN, -2, 5]),
        ];
        for (dtype, values) in cases {
            let bytes = ints(dtype, &values);
            assert_eq!(reader(&bytes).unwrap().ints().unwrap(), values, "{dtype:?}");
            let as_f64: Vec<f64> = values.iter().map(|&v| v as f64).collect();
            assert_eq!(parse(&bytes).unwrap(), (dtype, vec![values.len()], as_f64));
        }
        // u64 past i64::MAX saturates (and then fails every range check).
        let big = raw_npy(
            "{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }\n",
            &u64::MAX.to_le_bytes(),
        );
        assert_eq!(reader(&big).unwrap().ints().unwrap(), [i64::MAX]);
        // Floats of both widths and byte orders.
        let f4 = raw_npy(
            "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n",
            &[1.5f32.to_be_bytes(), (-2.25f32).to_be_bytes()].concat(),
        );
        assert_eq!(parse(&f4).unwrap().2, [1.5, -2.25]);
        let f8 = f64s(&[0.1, 1e300]);
        assert_eq!(parse(&f8).unwrap().2, [0.1, 1e300]);
        let e = reader(&f8).unwrap().ints().unwrap_err().to_string();
        assert!(e.contains("x.npy: integers expected, found <f8"), "{e}");
        let bools = encode(Dtype::BOOL, &[3], &[1, 0, 1]);
        assert_eq!(parse(&bools).unwrap().2, [1.0, 0.0, 1.0]);
    }

    #[test]
    fn npy_headers_in_other_spellings() {
        // Keys in another order, double quotes, Python 2 long integers, no trailing comma.
        let a = raw_npy(
            "{\"shape\": (2L, 1L), \"fortran_order\": True, \"descr\": \"|u1\"}  \n",
            &[3, 4],
        );
        assert_eq!(reader(&a).unwrap().vector_len().unwrap(), 2);
        assert_eq!(parse(&a).unwrap().1, [2, 1]);
        // Version 2.0: a 32-bit header length.
        let header = "{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }\n";
        let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
        v2.extend_from_slice(&(header.len() as u32).to_le_bytes());
        v2.extend_from_slice(header.as_bytes());
        v2.extend_from_slice(&9i16.to_le_bytes());
        assert_eq!(reader(&v2).unwrap().ints().unwrap(), [9]);
        // A scalar has shape () and one element.
        let scalar = raw_npy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (), }\n",
            &[0; 8],
        );
        assert_eq!(parse(&scalar).unwrap().2, [0.0]);
    }

    #[test]
    fn npy_errors() {
        let ok_header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n";
        let mut not_text = raw_npy(
            "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }",
            &[0],
        );
        let brace = not_text.len() - 2;
        not_text[brace] = 0xff;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"PK\x03\x04\x00\x00\x00\x00".to_vec(), "magic"),
            (b"\x93NUMPY\x04\x00\x10\x00".to_vec(), "version 4.0"),
            (b"\x93NUMPY\x01\x00\xff\x00{'descr'".to_vec(), "truncated"),
            (b"\x93NUMPY\x01".to_vec(), "truncated"),
            (raw_npy(ok_header, &[0; 7]), "the data ends after 1 of 2 elements"),
            (raw_npy(ok_header, &[0; 9]), "data continues past its 2 elements"),
            (raw_npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", &[0; 16]), "unsupported dtype '<c16'"),
            (raw_npy("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", &[0; 12]), "unsupported dtype"),
            (raw_npy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", &[]), "string expected"),
            (raw_npy("{'descr': '<i4', 'shape': (1,), }", &[0; 4]), "lacks"),
            (raw_npy("{'descr': '<i4', 'fortran_order': Maybe, 'shape': (1,), }", &[0; 4]), "True or False"),
            (raw_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (-1,), }", &[]), "whole numbers"),
            (raw_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", &[]), "overflows"),
            (raw_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", &[0; 4]), "unknown .npy header key"),
            (raw_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1,)", &[0; 4]), "'}' expected"),
            (raw_npy("{'descr': '<i4", &[]), "unterminated"),
            (not_text, "not text"),
        ];
        for (bytes, expected) in cases {
            match parse(&bytes) {
                Ok(_) => panic!("accepted, expected an error with {expected:?}"),
                Err(e) => assert!(e.to_string().contains(expected), "{e} lacks {expected:?}"),
            }
        }
        // More elements than the caller allows: refused from the header alone.
        let e = NpyReader::open("indptr.npy".into(), &f64s(&[0.0; 3])[..], 2).err();
        assert!(e.is_some_and(|e| e
            .to_string()
            .contains("3 elements, more than the 2 expected")));
    }

    #[test]
    fn only_vectors_and_columns_are_accepted() {
        for fortran in ["False", "True"] {
            let header =
                format!("{{'descr': '|u1', 'fortran_order': {fortran}, 'shape': (3, 2), }}\n");
            let bytes = raw_npy(&header, &[0; 6]);
            let e = reader(&bytes)
                .unwrap()
                .vector_len()
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("x.npy: shape [3, 2], expected (n,) or (n, 1)"),
                "{e}"
            );
        }
    }
}
