//! NumPy's `.npy` format: a magic string, a version, a header that is a Python dict literal
//! (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`), then the elements. This
//! module reads one from a stream of bytes whose length is known, and writes one as
//! `numpy.save` does (format 1.0, little-endian, C order, the header padded so that the data
//! starts on a 64-byte boundary).
//!
//! Reading trusts nothing: the header's length and the shape's byte count are checked against
//! the bytes there are before anything is allocated from them, the header is parsed by a
//! small parser with a depth limit (never evaluated), and only the element types of
//! `ELEMENT_TYPES` are read, in either byte order and in C or Fortran order.

use std::io::Write;

use crate::array::storage::{try_vec, with_any_slice, with_dtype};
use crate::array::dtype::f16;
use crate::array::{fmt_shape, Array, Bool, DType, Scalar};
use crate::error::{bail, Error, ErrorKind, Result};

pub(crate) const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The longest header read. NumPy writes well under 2 KiB even for 64 axes (and by default
/// reads at most 10,000 bytes); a longer one is refused before it is read.
const MAX_HEADER: u64 = 65_536;

/// The element types ad reads and writes, as NumPy's type character and size in bytes. A new
/// dtype of the engine is one more row here, and one more arm in `Elements`.
const ELEMENT_TYPES: &[(u8, usize, DType)] = &[
    (b'f', 4, DType::F32),
    (b'f', 8, DType::F64),
    (b'f', 2, DType::F16),
    (b'u', 1, DType::U8),
    (b'i', 4, DType::I32),
    (b'i', 1, DType::I8),
    (b'i', 8, DType::I64),
    (b'b', 1, DType::Bool),
];

/// `descr` for the elements of an array of `dtype`, as `numpy.save` writes it (`|` for the
/// one-byte types, whose byte order does not apply).
fn descr_of(dtype: DType) -> String {
    let (kind, size, _) = ELEMENT_TYPES.iter().find(|row| row.2 == dtype).copied().unwrap_or((b'?', 0, dtype));
    format!("{}{}{}", if size == 1 { '|' } else { '<' }, kind as char, size)
}

/// NumPy's name for an element type character and size, for messages (`<i8` is int64).
fn numpy_name(kind: u8, size: usize, rest: &str) -> String {
    let bits = size * 8;
    match kind {
        b'f' => format!("float{}", bits),
        b'i' => format!("int{}", bits),
        b'u' => format!("uint{}", bits),
        b'c' => format!("complex{}", bits),
        b'b' | b'?' => "bool".to_string(),
        b'O' => "object (pickled Python objects)".to_string(),
        b'U' => "str".to_string(),
        b'S' | b'a' => "bytes".to_string(),
        b'V' => "void (raw bytes)".to_string(),
        b'M' => format!("datetime64{}", rest),
        b'm' => format!("timedelta64{}", rest),
        _ => "an unknown type".to_string(),
    }
}

/// Byte order of the elements in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    Little,
    Big,
}

/// What a .npy header declares.
#[derive(Debug)]
pub(crate) struct Header {
    dtype: DType,
    order: Order,
    fortran: bool,
    pub(crate) shape: Vec<usize>,
}

/// Reads the bytes of one .npy in order: a file's, or a zip entry's (stored or inflated).
pub(crate) trait Input {
    /// Fills `buf` entirely, or fails.
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()>;
}

/// The bytes of an element buffer are allocated all at once when they are in the file as they
/// are (`Upfront`), or as they arrive when they are inflated (`AsTheyCome`): a small
/// compressed entry may declare gigabytes, and only bytes that its stream really produces
/// are given memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Allocation {
    Upfront,
    AsTheyCome,
}

/// Reads one .npy of `total` bytes from `input`; `what` names it in messages ("x.npy", or
/// "model.npz: entry 'w.npy'").
pub(crate) fn read(input: &mut dyn Input, total: u64, what: &str, allocation: Allocation) -> Result<Array> {
    let bad = |message: String| Error::new(ErrorKind::Format, format!("{}: {}", what, message));
    if total < 10 {
        return Err(bad(format!("{} bytes are too few for a .npy array (its magic, version and header length take 10 or more)", total)));
    }
    let mut start = [0u8; 8];
    input.read_exact(&mut start)?;
    if start[..6] != MAGIC[..] {
        return Err(bad(format!("not a .npy array: it starts with {:02x?}, not NumPy's magic \\x93NUMPY", &start[..6])));
    }
    let (major, minor) = (start[6], start[7]);
    let header_len = match (major, minor) {
        (1, 0) => {
            let mut b = [0u8; 2];
            input.read_exact(&mut b)?;
            u16::from_le_bytes(b) as u64
        }
        (2, 0) | (3, 0) => {
            if total < 12 {
                return Err(bad(format!("{} bytes are too few for a version {}.0 .npy array", total, major)));
            }
            let mut b = [0u8; 4];
            input.read_exact(&mut b)?;
            u32::from_le_bytes(b) as u64
        }
        _ => return Err(bad(format!(".npy format version {}.{} is not one ad reads (1.0, 2.0 and 3.0)", major, minor))),
    };
    let preamble = if major == 1 { 10 } else { 12 };
    if header_len > total - preamble {
        return Err(bad(format!("the header's length is {} bytes, but only {} follow it", header_len, total - preamble)));
    }
    if header_len > MAX_HEADER {
        return Err(bad(format!("the header's length is {} bytes, more than the {} ad reads", header_len, MAX_HEADER)));
    }
    let mut text = vec![0u8; header_len as usize];
    input.read_exact(&mut text)?;
    // Versions 1 and 2 are latin-1, version 3 UTF-8; the keys and values read are ASCII in
    // both, and a byte outside ASCII is refused by the parser.
    let header = parse_header(&text).map_err(|(kind, m)| Error::new(kind, format!("{}: {}", what, m)))?;

    let data_bytes = total - preamble - header_len;
    let size = header.dtype.size_of() as u128;
    let expected = header.shape.iter().try_fold(size, |n, &d| n.checked_mul(d as u128));
    if expected != Some(data_bytes as u128) {
        let declared = match expected {
            Some(b) => format!("{} bytes", b),
            None => "more bytes than a file can hold".to_string(),
        };
        return Err(bad(format!(
            "the header declares shape {} of {} ({}), but {} bytes of data follow it",
            fmt_shape(&header.shape),
            header.dtype.name(),
            declared,
            data_bytes
        )));
    }
    // The data is there, so the count fits; the engine's own limits (axes, elements) apply.
    let n = crate::array::shape::checked_size(&header.shape).map_err(|e| Error::new(e.kind, format!("{}: {}", what, e.message)))?;
    let named = |e: Error| Error::new(e.kind, format!("{}: {}", what, e.message));
    let buffer = with_dtype!(header.dtype, T => T::wrap(read_elements::<T>(input, n, &header, allocation).map_err(named)?));
    Ok(Array::from_buffer(buffer, header.shape))
}

/// An element type as bytes in a file. Whole chunks are converted in one loop each, which
/// the compiler turns into a copy (or a byte swap) at memory speed.
trait FileElement: Scalar {
    const SIZE: usize;
    /// Appends the elements that `bytes` (a multiple of `SIZE` long) hold in `order`.
    fn decode(bytes: &[u8], order: Order, out: &mut Vec<Self>);
    /// Writes `values` little-endian into `out`, exactly `SIZE` bytes each.
    fn encode(values: &[Self], out: &mut [u8]);
}

macro_rules! file_element {
    ($t:ty, $n:expr) => {
        impl FileElement for $t {
            const SIZE: usize = $n;
            fn decode(bytes: &[u8], order: Order, out: &mut Vec<$t>) {
                let (elements, _) = bytes.as_chunks::<$n>();
                match order {
                    Order::Little => out.extend(elements.iter().map(|b| <$t>::from_le_bytes(*b))),
                    Order::Big => out.extend(elements.iter().map(|b| <$t>::from_be_bytes(*b))),
                }
            }
            fn encode(values: &[$t], out: &mut [u8]) {
                let (elements, _) = out.as_chunks_mut::<$n>();
                for (o, x) in elements.iter_mut().zip(values) {
                    *o = x.to_le_bytes();
                }
            }
        }
    };
}

file_element!(f32, 4);
file_element!(f64, 8);
file_element!(f16, 2);
file_element!(u8, 1);
file_element!(i8, 1);
file_element!(i32, 4);
file_element!(i64, 8);

/// NumPy's bool: one byte, 0 or 1 (any other byte read is true, and written as 1).
impl FileElement for Bool {
    const SIZE: usize = 1;
    fn decode(bytes: &[u8], _: Order, out: &mut Vec<Bool>) {
        out.extend(bytes.iter().map(|&b| Bool((b != 0) as u8)))
    }
    fn encode(values: &[Bool], out: &mut [u8]) {
        out.iter_mut().zip(values).for_each(|(o, x)| *o = x.get() as u8)
    }
}

/// Bytes converted per step, in reading and in writing.
const CHUNK: usize = 1 << 16;

fn read_elements<T: FileElement>(input: &mut dyn Input, n: usize, header: &Header, allocation: Allocation) -> Result<Vec<T>> {
    let mut v: Vec<T> = match allocation {
        Allocation::Upfront => try_vec(n)?,
        Allocation::AsTheyCome => Vec::new(),
    };
    let mut bytes = vec![0u8; CHUNK.min(n * T::SIZE)];
    let mut left = n;
    while left > 0 {
        let take = left.min(CHUNK / T::SIZE);
        let chunk = &mut bytes[..take * T::SIZE];
        input.read_exact(chunk)?;
        if v.try_reserve(take).is_err() {
            bail!(Alloc, "cannot allocate memory for {} elements of {}", n, T::DTYPE.name());
        }
        T::decode(chunk, header.order, &mut v);
        left -= take;
    }
    if allocation == Allocation::AsTheyCome {
        // Grown by doubling: up to half of it may be spare.
        v.shrink_to_fit();
    }
    if header.fortran && header.shape.len() > 1 && n > 0 {
        v = fortran_to_c(&v, &header.shape)?;
    }
    Ok(v)
}

/// Elements stored column-major (Fortran order: the first axis varies fastest) in row-major
/// order.
fn fortran_to_c<T: Scalar>(v: &[T], shape: &[usize]) -> Result<Vec<T>> {
    let ndim = shape.len();
    // Row-major strides: where one step along each axis moves in the output.
    let mut strides = vec![1usize; ndim];
    for i in (0..ndim - 1).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    let mut out = try_vec::<T>(v.len())?;
    out.resize(v.len(), T::default());
    let mut index = vec![0usize; ndim];
    let mut at = 0usize;
    for &x in v {
        out[at] = x;
        // The next position in column-major order: axis 0 first, carrying upwards.
        for axis in 0..ndim {
            index[axis] += 1;
            at += strides[axis];
            if index[axis] < shape[axis] {
                break;
            }
            at -= strides[axis] * shape[axis];
            index[axis] = 0;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- the header

/// A Python literal, as far as .npy headers use them.
#[derive(Debug, PartialEq)]
enum Value {
    Str(String),
    /// A non-negative integer; `None` when it does not fit in a u64.
    Int(Option<u64>),
    Negative,
    Bool(bool),
    Nothing,
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
}

/// As Python writes it, for messages.
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn list(f: &mut std::fmt::Formatter<'_>, items: &[Value], open: &str, close: &str) -> std::fmt::Result {
            f.write_str(open)?;
            for (i, v) in items.iter().enumerate() {
                write!(f, "{}{}", if i > 0 { ", " } else { "" }, v)?;
            }
            f.write_str(close)
        }
        match self {
            Value::Str(s) => write!(f, "'{}'", s),
            Value::Int(Some(v)) => write!(f, "{}", v),
            Value::Int(None) => f.write_str("a number past 2^64"),
            Value::Negative => f.write_str("a negative number"),
            Value::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Value::Nothing => f.write_str("None"),
            Value::Tuple(items) => list(f, items, "(", ")"),
            Value::List(items) => list(f, items, "[", "]"),
            Value::Dict(_) => f.write_str("a dict"),
        }
    }
}

/// Nesting deeper than this is refused (a hostile header could nest until the stack ends).
const MAX_DEPTH: usize = 16;

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.at < self.text.len() && matches!(self.text[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.text.get(self.at).copied()
    }

    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        match self.peek() {
            Some(d) if d == c => {
                self.at += 1;
                Ok(())
            }
            Some(d) => Err(format!("expected '{}' at byte {} of the header, found '{}'", c as char, self.at, (d as char).escape_default())),
            None => Err(format!("the header ends where '{}' was expected", c as char)),
        }
    }

    fn value(&mut self, depth: usize) -> std::result::Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the header nests more than {} levels deep", MAX_DEPTH));
        }
        match self.peek() {
            None => Err("the header ends where a value was expected".to_string()),
            Some(b'{') => {
                self.at += 1;
                let mut items = Vec::new();
                while self.peek() != Some(b'}') {
                    let key = self.value(depth + 1)?;
                    self.expect(b':')?;
                    let value = self.value(depth + 1)?;
                    items.push((key, value));
                    if self.peek() != Some(b'}') {
                        self.expect(b',')?;
                    }
                }
                self.at += 1;
                Ok(Value::Dict(items))
            }
            Some(open @ (b'(' | b'[')) => {
                self.at += 1;
                let close = if open == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                let mut trailing_comma = false;
                while self.peek() != Some(close) {
                    items.push(self.value(depth + 1)?);
                    trailing_comma = false;
                    if self.peek() != Some(close) {
                        self.expect(b',')?;
                        trailing_comma = true;
                    }
                }
                self.at += 1;
                if open == b'(' && items.len() == 1 && !trailing_comma {
                    // `(3)` is the number 3 in Python, not a tuple.
                    return Ok(items.pop().unwrap_or(Value::Nothing));
                }
                Ok(if open == b'(' { Value::Tuple(items) } else { Value::List(items) })
            }
            Some(quote @ (b'\'' | b'"')) => {
                self.at += 1;
                let start = self.at;
                while self.at < self.text.len() && self.text[self.at] != quote {
                    let c = self.text[self.at];
                    if c == b'\\' || c == b'\n' || !c.is_ascii() {
                        return Err(format!("the header has a string with a character ad does not read ('{}') at byte {}", c.escape_ascii(), self.at));
                    }
                    self.at += 1;
                }
                if self.at == self.text.len() {
                    return Err("the header has a string that is not closed".to_string());
                }
                let s = String::from_utf8_lossy(&self.text[start..self.at]).into_owned();
                self.at += 1;
                Ok(Value::Str(s))
            }
            Some(b'-') => {
                self.at += 1;
                match self.value(depth + 1)? {
                    Value::Int(Some(0)) => Ok(Value::Int(Some(0))),
                    Value::Int(_) => Ok(Value::Negative),
                    _ => Err(format!("the header has a '-' before something that is not a number at byte {}", self.at)),
                }
            }
            Some(c) if c.is_ascii_digit() => {
                let mut value = Some(0u64);
                while self.at < self.text.len() && self.text[self.at].is_ascii_digit() {
                    let d = (self.text[self.at] - b'0') as u64;
                    value = value.and_then(|v| v.checked_mul(10)).and_then(|v| v.checked_add(d));
                    self.at += 1;
                }
                // Python 2 wrote long integers with an L (`(3L, 4L)`).
                if self.at < self.text.len() && matches!(self.text[self.at], b'L' | b'l') {
                    self.at += 1;
                }
                Ok(Value::Int(value))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.at;
                while self.at < self.text.len() && self.text[self.at].is_ascii_alphanumeric() {
                    self.at += 1;
                }
                match &self.text[start..self.at] {
                    b"True" => Ok(Value::Bool(true)),
                    b"False" => Ok(Value::Bool(false)),
                    b"None" => Ok(Value::Nothing),
                    word => Err(format!("the header has '{}', which is not a value ad reads", String::from_utf8_lossy(word))),
                }
            }
            Some(c) => Err(format!("the header has '{}' at byte {} where a value was expected", c.escape_ascii(), self.at)),
        }
    }
}

/// The header's dict, checked: exactly the keys `descr`, `fortran_order` and `shape`, as
/// NumPy requires, with values of their types. An error is a `Format` one, except for an
/// element type ad does not read (`DType`) and too many axes (`Shape`).
fn parse_header(text: &[u8]) -> std::result::Result<Header, (ErrorKind, String)> {
    let format = |m: String| (ErrorKind::Format, m);
    parse_dict(text).map_err(format)?.check()
}

/// The header's values, before their types are checked.
struct Fields {
    descr: Value,
    fortran: Value,
    shape: Value,
}

fn parse_dict(text: &[u8]) -> std::result::Result<Fields, String> {
    let mut p = Parser { text, at: 0 };
    let value = p.value(0)?;
    if p.peek().is_some() {
        return Err(format!("the header has more after its dict, at byte {}", p.at));
    }
    let Value::Dict(items) = value else {
        return Err("the header is not a dict".to_string());
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in items {
        let Value::Str(key) = key else {
            return Err("the header's dict has a key that is not a string".to_string());
        };
        let slot = match key.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            other => return Err(format!("the header has the key '{}'; a .npy header has exactly 'descr', 'fortran_order' and 'shape'", other)),
        };
        if slot.replace(value).is_some() {
            return Err(format!("the header has the key '{}' twice", key));
        }
    }
    let (Some(descr), Some(fortran), Some(shape)) = (descr, fortran, shape) else {
        return Err("the header lacks one of the keys 'descr', 'fortran_order' and 'shape'".to_string());
    };
    Ok(Fields { descr, fortran, shape })
}

impl Fields {
    fn check(self) -> std::result::Result<Header, (ErrorKind, String)> {
        let format = |m: String| (ErrorKind::Format, m);
        let fortran = match self.fortran {
            Value::Bool(b) => b,
            other => return Err(format(format!("the header's 'fortran_order' is {}, not True or False", other))),
        };
        let shape = shape_of(self.shape).map_err(format)?;
        if shape.len() > crate::array::shape::MAX_NDIM {
            let m = format!("the header's shape has {} axes, more than the {} an array may have", shape.len(), crate::array::shape::MAX_NDIM);
            return Err((ErrorKind::Shape, m));
        }
        let (dtype, order) = match self.descr {
            Value::Str(s) => element_type(&s).map_err(|m| (ErrorKind::DType, m))?,
            Value::List(_) => {
                let m = "its elements are records (a structured dtype); ad reads float32 and float64 arrays".to_string();
                return Err((ErrorKind::DType, m));
            }
            other => return Err(format(format!("the header's 'descr' is {}, not a type string", other))),
        };
        Ok(Header { dtype, order, fortran, shape })
    }
}

fn shape_of(value: Value) -> std::result::Result<Vec<usize>, String> {
    match value {
        Value::Tuple(dims) => dims
            .into_iter()
            .map(|d| match d {
                Value::Int(Some(d)) => usize::try_from(d).map_err(|_| format!("the header's shape has a dimension {} that does not fit in memory", d)),
                Value::Int(None) => Err("the header's shape has a dimension larger than 2^64".to_string()),
                Value::Negative => Err("the header's shape has a negative dimension".to_string()),
                other => Err(format!("the header's shape has {}, which is not a dimension", other)),
            })
            .collect(),
        other => Err(format!("the header's shape is {}, not a tuple", other)),
    }
}

/// The dtype and byte order of a `descr` such as `<f4`.
fn element_type(descr: &str) -> std::result::Result<(DType, Order), String> {
    let bytes = descr.as_bytes();
    let (order, rest) = match bytes.first() {
        Some(b'<') => (Some(Order::Little), &bytes[1..]),
        Some(b'>') => (Some(Order::Big), &bytes[1..]),
        // Native order, or not applicable (one-byte types); NumPy writes < or > for floats.
        Some(b'=' | b'|') => (None, &bytes[1..]),
        _ => (None, bytes),
    };
    let Some((&kind, digits)) = rest.split_first() else {
        return Err(format!("the header's 'descr' '{}' is not a type", descr));
    };
    let digits_end = digits.iter().position(|c| !c.is_ascii_digit()).unwrap_or(digits.len());
    let size: Option<usize> = std::str::from_utf8(&digits[..digits_end]).ok().and_then(|d| d.parse().ok());
    let suffix = String::from_utf8_lossy(&digits[digits_end..]);
    let row = size.and_then(|size| ELEMENT_TYPES.iter().find(|row| row.0 == kind && row.1 == size && suffix.is_empty()));
    match row {
        Some(&(_, _, dtype)) => {
            let native = if cfg!(target_endian = "big") { Order::Big } else { Order::Little };
            Ok((dtype, order.unwrap_or(native)))
        }
        None => Err(format!(
            "its elements are {} ('{}'); ad reads float32, float64, uint8, int8, int32, int64 and bool arrays",
            numpy_name(kind, size.unwrap_or(0), &suffix),
            descr
        )),
    }
}

// ---------------------------------------------------------------- writing

/// The bytes before the elements of a .npy of `dtype` and `shape`, as `numpy.save` writes
/// them: format 1.0 (2.0 should the header pass 65,535 bytes, which 64 axes cannot),
/// the keys sorted, room for the first axis to grow to 21 digits, and padding to a multiple
/// of 64 bytes with a final newline.
pub(crate) fn header_bytes(dtype: DType, shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [d] => format!("({},)", d),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut text = format!("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr_of(dtype), dims);
    if let Some(first) = shape.first() {
        text.push_str(&" ".repeat(21usize.saturating_sub(first.to_string().len())));
    }
    // The header's length, padding and newline included, as each version's prefix leaves it.
    let padded = |prefix: usize| {
        let unpadded = prefix + text.len() + 1;
        text.len() + 64 - unpadded % 64 + 1
    };
    let v1 = padded(10) <= u16::MAX as usize;
    let prefix = if v1 { 10 } else { 12 };
    let len = padded(prefix);
    let pad = len - text.len() - 1;
    let mut out = Vec::with_capacity(prefix + len);
    out.extend_from_slice(MAGIC);
    if v1 {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    out.extend_from_slice(text.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    out
}

/// The byte length of the .npy of `array`: its header and its elements.
pub(crate) fn npy_len(array: &Array) -> u64 {
    header_bytes(array.dtype(), array.shape()).len() as u64 + array.size() as u64 * array.dtype().size_of() as u64
}

/// Writes `array` as a .npy. Its elements are read under the storage's lock, so that the
/// file holds one state of them, never a half-written one.
pub(crate) fn write(out: &mut dyn Write, array: &Array) -> std::io::Result<()> {
    out.write_all(&header_bytes(array.dtype(), array.shape()))?;
    let guard = array.read();
    with_any_slice!(&*guard, array.range(), |v: &[T]| write_elements(out, v))
}

fn write_elements<T: FileElement>(out: &mut dyn Write, values: &[T]) -> std::io::Result<()> {
    let mut bytes = vec![0u8; CHUNK.min(values.len() * T::SIZE)];
    for chunk in values.chunks(CHUNK / T::SIZE) {
        let bytes = &mut bytes[..chunk.len() * T::SIZE];
        T::encode(chunk, bytes);
        out.write_all(bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> std::result::Result<Header, String> {
        parse_header(text.as_bytes()).map_err(|(_, m)| m)
    }

    #[test]
    fn reads_what_numpy_writes() {
        let h = header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n").unwrap();
        assert_eq!((h.dtype, h.order, h.fortran, h.shape.as_slice()), (DType::F32, Order::Little, false, &[2, 3][..]));
        let h = header("{'descr': '>f8', 'fortran_order': True, 'shape': (5,), }").unwrap();
        assert_eq!((h.dtype, h.order, h.fortran, h.shape.as_slice()), (DType::F64, Order::Big, true, &[5][..]));
        assert_eq!(header("{'shape': (), 'fortran_order': False, 'descr': '<f8'}").unwrap().shape, Vec::<usize>::new());
        assert_eq!(header("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3L, 4L)}").unwrap().shape, vec![3, 4]);
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        let cases = [
            ("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", "int16 ('<i2')"),
            ("{'descr': '<u8', 'fortran_order': False, 'shape': (2,), }", "uint64"),
            ("{'descr': '<f16', 'fortran_order': False, 'shape': (2,), }", "float128"),
            ("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", "complex128"),
            ("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", "object"),
            ("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (2,), }", "datetime64[ns]"),
            ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "structured"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "negative"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", "larger than 2^64"),
            ("{'descr': '<f4', 'fortran_order': False}", "lacks"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", "'x'"),
            ("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "twice"),
            ("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "fortran_order"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "ends"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "not a tuple"),
            ("[", "ends"),
            ("((((((((((((((((((((((((((((((", "levels"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "more after"),
            ("{'descr': 'f\\x34', 'fortran_order': False, 'shape': (1,)}", "character"),
        ];
        for (text, needle) in cases {
            let message = header(text).expect_err(text);
            assert!(message.contains(needle), "{} -> {}", text, message);
        }
        let deep = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", vec!["1"; 65].join(", "));
        assert!(header(&deep).unwrap_err().contains("65 axes"));
    }

    #[test]
    fn headers_are_numpys() {
        // The bytes numpy.save writes for these shapes (NumPy 1.23).
        let h = header_bytes(DType::F32, &[2, 3]);
        assert_eq!(h.len() % 64, 0);
        let text = String::from_utf8(h[10..].to_vec()).unwrap();
        assert!(text.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), "{}", text);
        assert!(text.ends_with(" \n"));
        assert_eq!(u16::from_le_bytes([h[8], h[9]]) as usize, h.len() - 10);
        assert!(String::from_utf8_lossy(&header_bytes(DType::F64, &[])).contains("'shape': (), }"));
        assert!(String::from_utf8_lossy(&header_bytes(DType::F64, &[7])).contains("'shape': (7,), }"));
        let parsed = parse_header(&header_bytes(DType::F64, &[1; 64])[10..]).unwrap();
        assert_eq!(parsed.shape, vec![1; 64]);
    }

    #[test]
    fn fortran_order_is_transposed() {
        // A (2, 3) array [[0, 1, 2], [3, 4, 5]] stored column-major.
        let col_major = [0.0f32, 3.0, 1.0, 4.0, 2.0, 5.0];
        assert_eq!(fortran_to_c(&col_major, &[2, 3]).unwrap(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        // (2, 2, 2): element (i, j, k) = 4i + 2j + k, stored with i fastest.
        let mut f = Vec::new();
        for k in 0..2 {
            for j in 0..2 {
                for i in 0..2 {
                    f.push((4 * i + 2 * j + k) as f64);
                }
            }
        }
        assert_eq!(fortran_to_c(&f, &[2, 2, 2]).unwrap(), (0..8).map(|x| x as f64).collect::<Vec<_>>());
    }
}
