//! Text rendering of arrays, byte for byte as numpy prints them (floats, integers, bools).
//!
//! MXNet 1.9.1 prints an NDArray as `str(arr.asnumpy())` and pins numpy < 1.24,
//! so this mirrors `numpy/core/arrayprint.py` of those versions with the
//! default print options: precision 8, floatmode 'maxprec', threshold 1000,
//! edgeitems 3, linewidth 75, sign '-', suppress False, legacy off.
//!
//! Digits come from Rust's float formatting, checked against numpy's Dragon4
//! (`dragon4.c`): `{:e}` gives how many digits the shortest round-trip form of
//! a value needs in its own type, and `{:.N}` / `{:.Ne}` round the exact
//! binary value half to even, which is what Dragon4 does at whatever digit it
//! stops: the shortest unique one, the precision cutoff, or past uniqueness
//! to honour `min_digits`.

use std::collections::TryReserveError;
use std::fmt::{Display, LowerExp};
use std::ops::Div;
use std::str::FromStr;

/// numpy's `precision`: at most this many digits after the decimal point.
const PRECISION: usize = 8;
/// numpy's `threshold`: arrays with more elements are summarised with `...`.
const THRESHOLD: usize = 1000;
/// numpy's `edgeitems`: items kept at each end of a summarised axis.
const EDGE_ITEMS: usize = 3;
/// numpy's `linewidth`.
const LINE_WIDTH: usize = 75;

/// A float element type the printer understands (implemented for f32 and f64).
///
/// `LowerExp` must give the type's own shortest round-trip digits (and
/// `FromStr` parse them back), and division must happen in the type itself:
/// numpy's max/min ratio test is computed in the array's dtype. The method
/// names avoid `num_traits::Float`'s (`abs`, `to_f64`), which element types
/// also implement, so generic code bound by both stays unambiguous.
pub trait PrintFloat:
    Copy + PartialOrd + Div<Output = Self> + Display + LowerExp + FromStr
{
    /// The exact value widened to f64 (used for classification and comparisons).
    fn widened(self) -> f64;
    /// The absolute value in the element type.
    fn magnitude(self) -> Self;
}

impl PrintFloat for f32 {
    fn widened(self) -> f64 {
        f64::from(self)
    }
    fn magnitude(self) -> Self {
        f32::abs(self)
    }
}

impl PrintFloat for f64 {
    fn widened(self) -> f64 {
        self
    }
    fn magnitude(self) -> Self {
        f64::abs(self)
    }
}

/// An element type the printer understands: how the shown elements decide one layout for
/// all (numpy's `FloatingFormat`, `IntegerFormat`, `BoolFormat`), one element's text in it,
/// and the `str` of a 0-d array's scalar.
pub trait Printable: Copy {
    type Format: Default;
    fn layout(shown: &[Self]) -> Self::Format;
    fn word(format: &Self::Format, v: Self) -> String;
    fn scalar_text(self) -> String;
}

macro_rules! printable_float {
    ($t:ty) => {
        impl Printable for $t {
            type Format = FloatFormat;
            fn layout(shown: &[$t]) -> FloatFormat {
                FloatFormat::new(shown)
            }
            fn word(format: &FloatFormat, v: $t) -> String {
                format.format(v)
            }
            fn scalar_text(self) -> String {
                scalar_str(self)
            }
        }
    };
}
printable_float!(f32);
printable_float!(f64);

/// A float16 as the printer needs it: its `LowerExp` without a precision gives float16's own
/// shortest round-trip digits (half's gives float32's, too many), and `FromStr` rounds to
/// float16, so numpy's float16 printing comes out of the same code as float32's.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
struct Half(super::dtype::f16);

impl Display for Half {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Display::fmt(&self.0.to_f64(), f)
    }
}

impl LowerExp for Half {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = self.0.to_f64();
        if f.precision().is_some() || !x.is_finite() {
            // The exact value (every float16 is exact in f64), rounded as asked.
            return LowerExp::fmt(&x, f);
        }
        // Five significant digits tell any two float16 values apart.
        let text = (0..5)
            .map(|p| format!("{x:.p$e}"))
            .find(|t| t.parse::<Half>().is_ok_and(|back| back.0 == self.0))
            .unwrap_or_else(|| format!("{x:.4e}"));
        f.write_str(&text)
    }
}

impl FromStr for Half {
    type Err = std::num::ParseFloatError;
    fn from_str(s: &str) -> Result<Half, Self::Err> {
        s.parse::<f64>().map(|v| Half(super::dtype::f16::from_f64(v)))
    }
}

impl Div for Half {
    type Output = Half;
    /// In float16, as numpy divides float16 scalars (through float32, rounded back).
    fn div(self, o: Half) -> Half {
        Half(self.0 / o.0)
    }
}

impl PrintFloat for Half {
    fn widened(self) -> f64 {
        self.0.to_f64()
    }
    fn magnitude(self) -> Self {
        Half(super::dtype::f16::from_bits(self.0.to_bits() & 0x7fff))
    }
}

impl Printable for super::dtype::f16 {
    type Format = FloatFormat;
    fn layout(shown: &[Self]) -> FloatFormat {
        FloatFormat::new(&shown.iter().map(|&v| Half(v)).collect::<Vec<_>>())
    }
    fn word(format: &FloatFormat, v: Self) -> String {
        format.format(Half(v))
    }
    fn scalar_text(self) -> String {
        scalar_str(Half(self))
    }
}

/// numpy's `IntegerFormat`: every element right-aligned to the widest of the shown maximum
/// and minimum.
#[derive(Default)]
pub struct IntFormat {
    width: usize,
}

macro_rules! printable_int {
    ($t:ty) => {
        impl Printable for $t {
            type Format = IntFormat;
            fn layout(shown: &[$t]) -> IntFormat {
                let (min, max) = (shown.iter().min(), shown.iter().max());
                IntFormat { width: min.into_iter().chain(max).map(|v| v.to_string().len()).max().unwrap_or(0) }
            }
            fn word(format: &IntFormat, v: $t) -> String {
                format!("{:>width$}", v, width = format.width)
            }
            fn scalar_text(self) -> String {
                self.to_string()
            }
        }
    };
}
printable_int!(u8);
printable_int!(i8);
printable_int!(i32);
printable_int!(i64);

/// numpy's `BoolFormat`: " True" and "False", of one width, in arrays of one axis or more.
impl Printable for super::dtype::Bool {
    type Format = ();
    fn layout(_: &[Self]) {}
    fn word(_: &(), v: Self) -> String {
        if v.get() { " True" } else { "False" }.to_string()
    }
    fn scalar_text(self) -> String {
        if self.get() { "True" } else { "False" }.to_string()
    }
}

/// Text that grows only as far as memory allows: an array's text can be many times the size
/// of its data, and must fail as an error, not abort the process.
#[derive(Default)]
pub struct Text(String);

impl Text {
    pub fn push(&mut self, s: &str) -> Result<(), TryReserveError> {
        self.0.try_reserve(s.len())?;
        self.0.push_str(s);
        Ok(())
    }

    /// `n` copies of `c` (a space or a newline).
    fn push_repeated(&mut self, c: char, n: usize) -> Result<(), TryReserveError> {
        self.0.try_reserve(n)?;
        self.0.extend(std::iter::repeat_n(c, n));
        Ok(())
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The text numpy's `str(arr)` gives for a C-contiguous row-major array with
/// this shape (without MXNet's `<NDArray ...>` wrapper).
///
/// # Panics
/// If `data.len()` is not the product of `shape`, or memory for the text runs out.
pub fn format_array<T: Printable>(data: &[T], shape: &[usize]) -> String {
    let mut text = Text::default();
    write_array(data, shape, &mut text).expect("memory for the text");
    text.into_string()
}

/// `format_array`'s text appended to `out`, or an error when memory for it cannot be had.
/// It recurses once per axis (the library's arrays have at most 64).
pub fn write_array<T: Printable>(data: &[T], shape: &[usize], out: &mut Text) -> Result<(), TryReserveError> {
    let size: usize = shape.iter().product();
    assert_eq!(
        data.len(),
        size,
        "data length does not match shape {shape:?}"
    );
    // numpy's str of a 0-d array is the str of its scalar, not array formatting.
    if shape.is_empty() {
        return out.push(&data[0].scalar_text());
    }
    // array2string treats any array with a zero dimension as "[]".
    if size == 0 {
        return out.push("[]");
    }
    let mut strides = vec![1; shape.len()];
    for axis in (0..shape.len() - 1).rev() {
        strides[axis] = strides[axis + 1] * shape[axis + 1];
    }
    let mut printer = Printer {
        data,
        shape,
        strides,
        summarise: size > THRESHOLD,
        format: T::Format::default(),
    };
    // Like `_leading_trailing`, only the elements that will be shown decide the format.
    let count = shape.iter().map(|&len| shown_indices(len, printer.summarise).flatten().count()).product();
    let mut shown = Vec::new();
    shown.try_reserve_exact(count)?;
    printer.collect_shown(0, 0, &mut shown);
    printer.format = T::layout(&shown);
    drop(shown);
    printer.render(0, 0, 1, LINE_WIDTH, out)
}

/// A finite value's magnitude as decimal digits: the first digit has weight
/// `10^exp`; `digits` has no leading or trailing zeros and is empty for zero.
struct Decimal {
    digits: Vec<u8>,
    exp: i32,
}

impl Decimal {
    /// Shortest round-trip digits of `|v|`, with no cutoff. Of two equally
    /// short candidates Dragon4 takes the closer, and on a tie the even digit
    /// (float32 3842807.25 -> 3842807.2), where Rust's `{:e}` may take the other.
    /// The exact value rounded half-even to that length is that choice,
    /// unless it falls outside the round-trip interval (possible just above
    /// a power of two, where the interval is lopsided); then Rust's is right.
    fn shortest<T: PrintFloat>(v: T) -> Self {
        let magnitude = v.magnitude();
        let rust = Self::parse(&format!("{magnitude:e}"));
        let rounded = format!("{:.*e}", rust.digits.len().saturating_sub(1), magnitude);
        if rounded.parse::<T>().is_ok_and(|back| back == magnitude) {
            Self::parse(&rounded)
        } else {
            rust
        }
    }

    /// Dragon4 'unique' positional digits as the array printer asks for them:
    /// at most `PRECISION` fractional digits, and (as it passes min_digits=0)
    /// never stopping before the units digit, so float32 73112192 prints its
    /// exact integer digits rather than the shortest 73112190.
    fn positional<T: PrintFloat>(v: T) -> Self {
        let shortest = Self::shortest(v);
        let ends_before_units = shortest.digits.len() < (shortest.exp + 1).max(0) as usize;
        if shortest.frac_len() <= PRECISION && !ends_before_units {
            return shortest;
        }
        Self::parse(&format!(
            "{:.*}",
            shortest.frac_len().min(PRECISION),
            v.magnitude()
        ))
    }

    /// Dragon4 'unique' scientific digits with at most `PRECISION` digits after the first.
    fn scientific<T: PrintFloat>(v: T) -> Self {
        let shortest = Self::shortest(v);
        if shortest.digits.len() <= PRECISION + 1 {
            return shortest;
        }
        Self::rounded_scientific(v, PRECISION)
    }

    /// The exact value rounded to `frac_digits` digits after the first.
    fn rounded_scientific<T: PrintFloat>(v: T, frac_digits: usize) -> Self {
        Self::parse(&format!("{:.*e}", frac_digits, v.magnitude()))
    }

    /// Parses Rust's rendering of a non-negative finite value ("0.0019", "1.5e-7").
    fn parse(text: &str) -> Self {
        let (mantissa, exp10) = match text.split_once('e') {
            Some((m, e)) => (m, e.parse::<i32>().expect("float exponent")),
            None => (text, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
        let leading_zeros = all.iter().take_while(|&&b| b == b'0').count();
        let mut digits = all[leading_zeros..].to_vec();
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        let exp = exp10 + int.len() as i32 - 1 - leading_zeros as i32;
        Decimal { digits, exp }
    }

    /// Number of digits after the decimal point in positional notation.
    fn frac_len(&self) -> usize {
        (self.digits.len() as i32 - 1 - self.exp).max(0) as usize
    }

    /// Positional integer and fractional digit strings, e.g. ("12", "05").
    fn split_positional(&self) -> (String, String) {
        if self.digits.is_empty() {
            return ("0".to_string(), String::new());
        }
        if self.exp < 0 {
            let zeros = "0".repeat((-self.exp - 1) as usize);
            return ("0".to_string(), zeros + &ascii(&self.digits));
        }
        let int_len = self.exp as usize + 1;
        if int_len >= self.digits.len() {
            let zeros = "0".repeat(int_len - self.digits.len());
            (ascii(&self.digits) + &zeros, String::new())
        } else {
            let (int, frac) = self.digits.split_at(int_len);
            (ascii(int), ascii(frac))
        }
    }

    /// Scientific mantissa digits after the point, and the exponent (zero is 0e0).
    fn split_scientific(&self) -> (String, i32) {
        match self.digits.split_first() {
            Some((_, rest)) => (ascii(rest), self.exp),
            None => (String::new(), 0),
        }
    }

    /// The leading mantissa digit in scientific notation.
    fn first_digit(&self) -> char {
        self.digits.first().map_or('0', |&d| char::from(d))
    }
}

fn ascii(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("ascii digits")
}

fn sign_of<T: PrintFloat>(v: T) -> &'static str {
    if v.widened().is_sign_negative() {
        "-"
    } else {
        ""
    }
}

/// numpy's exponent text: sign and at least `min_digits` digits (`e+05`).
fn exponent_str(exp: i32, min_digits: usize) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    format!("e{sign}{:0>min_digits$}", exp.unsigned_abs())
}

fn non_finite_str(x: f64) -> Option<&'static str> {
    match x {
        _ if x.is_nan() => Some("nan"),
        f64::INFINITY => Some("inf"),
        f64::NEG_INFINITY => Some("-inf"),
        _ => None,
    }
}

/// `str()` of a numpy float scalar: shortest digits with no precision cap,
/// positional ("5.0") for 0 and 1e-4 <= |x| < 1e16, else scientific ("1e-05").
fn scalar_str<T: PrintFloat>(v: T) -> String {
    let x = v.widened();
    if let Some(text) = non_finite_str(x) {
        return text.to_string();
    }
    let decimal = Decimal::shortest(v);
    // numpy compares the float32 value against double literals, so these
    // bounds are tested in f64 (float32(1e-4) is below 1e-4 and goes scientific).
    if x == 0.0 || (1e-4..1e16).contains(&x.abs()) {
        let (int, frac) = decimal.split_positional();
        let frac = if frac.is_empty() {
            "0".to_string()
        } else {
            frac
        };
        format!("{}{int}.{frac}", sign_of(v))
    } else {
        let (frac, exp) = decimal.split_scientific();
        let point = if frac.is_empty() { "" } else { "." };
        let first = decimal.first_digit();
        format!("{}{first}{point}{frac}{}", sign_of(v), exponent_str(exp, 2))
    }
}

/// Mirrors numpy's `FloatingFormat` after `fillFormat`: one layout shared by
/// every element so that columns line up.
#[derive(Default)]
pub struct FloatFormat {
    scientific: bool,
    /// Width of the sign plus integer part (mantissa's leading digit in scientific).
    pad_left: usize,
    /// Width after the decimal point (in scientific: digits, 'e', sign, exponent).
    pad_right: usize,
    /// Scientific only: mantissa digits after the point, zero-padded.
    precision: usize,
    /// Scientific only: exponent digits, zero-padded.
    exp_digits: usize,
}

impl FloatFormat {
    fn new<T: PrintFloat>(values: &[T]) -> Self {
        let finite = || values.iter().copied().filter(|v| v.widened().is_finite());
        let mut format = FloatFormat {
            scientific: needs_scientific(finite()),
            ..Self::default()
        };
        for v in finite() {
            if format.scientific {
                let (frac, exp) = Decimal::scientific(v).split_scientific();
                format.pad_left = format.pad_left.max(sign_of(v).len() + 1);
                format.precision = format.precision.max(frac.len());
                format.exp_digits = format
                    .exp_digits
                    .max(exp.unsigned_abs().to_string().len().max(2));
            } else {
                let (int, frac) = Decimal::positional(v).split_positional();
                format.pad_left = format.pad_left.max(sign_of(v).len() + int.len());
                format.pad_right = format.pad_right.max(frac.len());
            }
        }
        if format.scientific {
            // As in numpy, pad_right leaves out the '.': digits, 'e', sign, exponent.
            format.pad_right = format.precision + 2 + format.exp_digits;
        }
        // nan/inf are right-aligned in the element width, widening it if needed.
        if finite().count() != values.len() {
            let neg_inf = values.iter().any(|v| v.widened() == f64::NEG_INFINITY);
            let widest = if neg_inf { "-inf".len() } else { "nan".len() };
            format.pad_left = format
                .pad_left
                .max(widest.saturating_sub(format.pad_right + 1));
        }
        format
    }

    fn format<T: PrintFloat>(&self, v: T) -> String {
        let x = v.widened();
        let (pad_left, pad_right) = (self.pad_left, self.pad_right);
        if let Some(text) = non_finite_str(x) {
            return format!("{text:>width$}", width = pad_left + pad_right + 1);
        }
        if self.scientific {
            // numpy passes min_digits = precision here, so values with fewer unique
            // digits get more real digits (float32 0.7 -> 6.9999999e-01), not zeros.
            let decimal = Decimal::rounded_scientific(v, self.precision);
            let (frac, exp) = decimal.split_scientific();
            let int = format!("{}{}", sign_of(v), decimal.first_digit());
            let exp = exponent_str(exp, self.exp_digits);
            format!(
                "{int:>pad_left$}.{frac:0<prec$}{exp}",
                prec = self.precision
            )
        } else {
            let (int, frac) = Decimal::positional(v).split_positional();
            let int = format!("{}{int}", sign_of(v));
            format!("{int:>pad_left$}.{frac:<pad_right$}")
        }
    }
}

/// `fillFormat`'s choice: scientific when the finite non-zero magnitudes span
/// too much (>= 1e8, < 1e-4, or max/min > 1e3 with the division in the dtype).
fn needs_scientific<T: PrintFloat>(finite: impl Iterator<Item = T>) -> bool {
    let mut magnitudes = finite
        .map(|v| v.magnitude())
        .filter(|v| v.widened() != 0.0);
    let Some(first) = magnitudes.next() else {
        return false;
    };
    let (min, max) = magnitudes.fold((first, first), |(min, max), v| {
        (if v < min { v } else { min }, if v > max { v } else { max })
    });
    max.widened() >= 1e8 || min.widened() < 1e-4 || (max / min).widened() > 1e3
}

/// Indices shown along an axis of length `len`; `None` marks the `...`.
fn shown_indices(len: usize, summarise: bool) -> impl Iterator<Item = Option<usize>> {
    let cut = summarise && len > 2 * EDGE_ITEMS;
    let (leading, trailing) = if cut { (EDGE_ITEMS, len - EDGE_ITEMS) } else { (len, len) };
    (0..leading)
        .map(Some)
        .chain(cut.then_some(None))
        .chain((trailing..len).map(Some))
}

/// numpy's `_formatArray` over a row-major buffer.
struct Printer<'a, T: Printable> {
    data: &'a [T],
    shape: &'a [usize],
    strides: Vec<usize>,
    summarise: bool,
    format: T::Format,
}

impl<T: Printable> Printer<'_, T> {
    fn collect_shown(&self, axis: usize, offset: usize, out: &mut Vec<T>) {
        if axis == self.shape.len() {
            out.push(self.data[offset]);
            return;
        }
        for i in shown_indices(self.shape[axis], self.summarise).flatten() {
            self.collect_shown(axis + 1, offset + i * self.strides[axis], out);
        }
    }

    /// `recurser`: the sub-array at `offset` spanning axes `axis..`, whose
    /// continuation lines start with `indent` spaces and must fit in `width`
    /// columns, written to `out` as it is made (numpy builds each sub-array's
    /// text and joins them; the result is the same).
    fn render(&self, axis: usize, offset: usize, indent: usize, width: usize, out: &mut Text) -> Result<(), TryReserveError> {
        let items = shown_indices(self.shape[axis], self.summarise);
        let axes_left = self.shape.len() - axis;
        out.push("[")?;
        if axes_left == 1 {
            return self.wrap_words(offset, items, indent, width.saturating_sub(1), out);
        }
        for (k, item) in items.enumerate() {
            // Sub-arrays go on their own lines, separated by axes_left - 2 blank lines.
            if k > 0 {
                out.push_repeated('\n', axes_left - 1)?;
                out.push_repeated(' ', indent)?;
            }
            match item {
                // Nested rows align one column right of this '[' and lose a column to its ']'.
                Some(i) => self.render(axis + 1, offset + i * self.strides[axis], indent + 1, width.saturating_sub(1), out)?,
                None => out.push("...")?,
            }
        }
        out.push("]")
    }

    /// The last axis: space-separated words, wrapped as `_extendLine` does when a
    /// word would pass `width` (never wrapping a line that holds only the indent).
    /// The first line's indent is where the caller's '[' stands.
    fn wrap_words(&self, offset: usize, items: impl Iterator<Item = Option<usize>>, indent: usize, width: usize, out: &mut Text) -> Result<(), TryReserveError> {
        let stride = self.strides[self.shape.len() - 1];
        let mut line = " ".repeat(indent);
        let mut first = true;
        for (k, item) in items.enumerate() {
            let word = match item {
                Some(i) => T::word(&self.format, self.data[offset + i * stride]),
                None => "...".to_string(),
            };
            if k > 0 {
                line.push(' ');
            }
            if line.len() + word.len() > width && line.len() > indent {
                out.push(&line.trim_end()[if first { indent } else { 0 }..])?;
                out.push("\n")?;
                first = false;
                line.truncate(0);
                line.extend(std::iter::repeat_n(' ', indent));
            }
            line.push_str(&word);
        }
        out.push(&line[if first { indent } else { 0 }..])?;
        out.push("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tutorial_column() {
        let data = [0.0f32, 4.0, 8.0, 12.0];
        assert_eq!(
            format_array(&data, &[4, 1]),
            "[[ 0.]\n [ 4.]\n [ 8.]\n [12.]]"
        );
    }

    #[test]
    fn pads_fraction_with_spaces() {
        assert_eq!(format_array(&[0.5f32, 1.0], &[2]), "[0.5 1. ]");
    }

    #[test]
    fn small_values_go_scientific() {
        assert_eq!(format_array(&[1e-5f64, 1.0], &[2]), "[1.e-05 1.e+00]");
    }

    #[test]
    fn integers_and_bools_as_numpy() {
        use crate::array::dtype::Bool;
        assert_eq!(format_array(&[1i32, 2, 3], &[3]), "[1 2 3]");
        assert_eq!(format_array(&[-1i64, 20, 3, 4], &[2, 2]), "[[-1 20]\n [ 3  4]]");
        assert_eq!(format_array(&[255u8, 0], &[2]), "[255   0]");
        assert_eq!(format_array(&[-128i8], &[]), "-128");
        assert_eq!(format_array(&[Bool(1), Bool(0), Bool(1)], &[3]), "[ True False  True]");
        assert_eq!(format_array(&[Bool(1)], &[]), "True");
        assert_eq!(format_array::<i32>(&[], &[0]), "[]");
    }

    #[test]
    fn zero_d_and_empty() {
        assert_eq!(format_array(&[5.0f32], &[]), "5.0");
        assert_eq!(format_array::<f64>(&[], &[2, 0]), "[]");
    }

    /// One case of `tests/fixtures/print_cases.txt` (see gen_print_cases.py).
    struct Case<'a> {
        header: &'a str,
        dtype: &'a str,
        shape: Vec<usize>,
        bits: Vec<u64>,
        expected: String,
    }

    fn parse_cases(text: &str) -> Vec<Case<'_>> {
        let mut lines = text.lines();
        let mut cases = Vec::new();
        while let Some(header) = lines.next() {
            let fields: Vec<&str> = header.split(' ').collect();
            assert!(
                fields.len() == 4 && fields[0] == "case",
                "bad header {header:?}"
            );
            let shape = fields[3]
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap());
            let values = lines.next().expect("values line");
            let bits = values
                .split_whitespace()
                .map(|h| u64::from_str_radix(h, 16).unwrap());
            let expected: Vec<&str> = lines.by_ref().take_while(|&l| l != "~~~").collect();
            cases.push(Case {
                header,
                dtype: fields[2],
                shape: shape.collect(),
                bits: bits.collect(),
                expected: expected.join("\n"),
            });
        }
        cases
    }

    fn render(case: &Case) -> String {
        match case.dtype {
            "f32" => {
                let data: Vec<f32> = case
                    .bits
                    .iter()
                    .map(|&b| f32::from_bits(b as u32))
                    .collect();
                format_array(&data, &case.shape)
            }
            "f64" => {
                let data: Vec<f64> = case.bits.iter().map(|&b| f64::from_bits(b)).collect();
                format_array(&data, &case.shape)
            }
            other => panic!("unknown dtype {other}"),
        }
    }

    #[test]
    fn matches_numpy_fixture() {
        let cases = parse_cases(include_str!("../../tests/fixtures/print_cases.txt"));
        assert!(cases.len() > 150, "only {} fixture cases", cases.len());
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|case| {
                let actual = render(case);
                (actual != case.expected).then(|| {
                    format!(
                        "{}\n--- expected\n{}\n--- actual\n{}\n",
                        case.header, case.expected, actual
                    )
                })
            })
            .collect();
        assert!(
            failures.is_empty(),
            "{} of {} cases differ:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }
}
