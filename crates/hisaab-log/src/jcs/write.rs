//! [`super::to_canonical`] in one pass: a serde `Serializer` that writes Hisaab's profile of
//! RFC 8785 straight from the value, without building a `serde_json::Value` first (which costs
//! a heap node and a key string for every member: most of the time of a large state's digest).
//!
//! It writes only what it is sure of, and answers `None` for anything else: a number outside
//! the profile, a float, a map key that is not a string, a key twice in one object, or one of
//! serde_json's private types. The caller then takes the general path (`serde_json::to_value`
//! and [`super::canonicalize_profile`]), which gives that value's canonical bytes or its error
//! exactly as before; where this writer does answer, the unit tests and the property test in
//! `jcs.rs` hold it to the general path byte for byte.

use std::fmt;
use std::ops::Range;

use serde::ser::{self, Impossible, Serialize};

use super::{sort_members, write_string, INTEGER_MAX};

/// The canonical bytes of `value` under the profile, the member `skip` of its outermost
/// object left out; `None` when this writer does not answer (see the module's text).
///
/// A writer that declined anywhere declines the whole value, even when the value's own
/// `Serialize` carried on past the error (an element it chose to leave out would otherwise
/// leave a comma, or half a member, behind).
pub(super) fn canonical<T: Serialize + ?Sized>(value: &T, skip: Option<&str>) -> Option<Vec<u8>> {
    // Saved and put back: a `Serialize` may itself canonicalise something on the way.
    let outer = DECLINED.with(|declined| declined.replace(false));
    let mut out = Vec::with_capacity(256);
    let written = value.serialize(Writer {
        out: &mut out,
        skip,
    });
    let declined = DECLINED.with(|declined| declined.replace(outer));
    (written.is_ok() && !declined).then_some(out)
}

thread_local! {
    /// Whether the writer declined since [`canonical`] began on this thread.
    static DECLINED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Why the writer stopped: it does not say, the general path will. Made only by [`declined`].
#[derive(Debug)]
pub(super) struct Declined(());

/// The writer declines, and remembers it (see [`canonical`]).
fn declined() -> Declined {
    DECLINED.with(|declined| declined.set(true));
    Declined(())
}

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to the general canonicaliser")
    }
}

impl std::error::Error for Declined {}

impl ser::Error for Declined {
    fn custom<M: fmt::Display>(_: M) -> Self {
        declined()
    }
}

/// Writes one value into `out`; `skip` is the member left out if the value is an object.
struct Writer<'a, 'k> {
    out: &'a mut Vec<u8>,
    skip: Option<&'k str>,
}

/// The decimal digits of `value`, which is its ES6 form for an integer below 2^53.
fn write_integer(value: u64, out: &mut Vec<u8>) -> Result<(), Declined> {
    if value > INTEGER_MAX {
        return Err(declined());
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        // A digit: `rest % 10` is below 10.
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
    Ok(())
}

/// Whether `name` is one of serde_json's own types (a raw value, an arbitrary-precision
/// number), which only serde_json knows how to write.
fn is_private(name: &str) -> bool {
    name.starts_with("$serde_json")
}

impl Writer<'_, '_> {
    /// An enum variant is written as an object of one member named after it: when that is the
    /// member to leave out, the general path (which removes it) says what remains.
    fn outermost_member(&self, variant: &str) -> Result<(), Declined> {
        if self.skip == Some(variant) {
            return Err(declined());
        }
        Ok(())
    }
}

impl<'a, 'k> ser::Serializer for Writer<'a, 'k> {
    type Ok = ();
    type Error = Declined;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a, 'k>;
    type SerializeStruct = Object<'a, 'k>;
    type SerializeStructVariant = Object<'a, 'k>;

    fn serialize_bool(self, v: bool) -> Result<(), Declined> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Declined> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), Declined> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), Declined> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), Declined> {
        write_integer(u64::try_from(v).map_err(|_| declined())?, self.out)
    }

    fn serialize_u8(self, v: u8) -> Result<(), Declined> {
        write_integer(u64::from(v), self.out)
    }

    fn serialize_u16(self, v: u16) -> Result<(), Declined> {
        write_integer(u64::from(v), self.out)
    }

    fn serialize_u32(self, v: u32) -> Result<(), Declined> {
        write_integer(u64::from(v), self.out)
    }

    fn serialize_u64(self, v: u64) -> Result<(), Declined> {
        write_integer(v, self.out)
    }

    // The general path refuses every finite float (2.0 too) and writes a non-finite one as
    // `null`: its call, not this writer's.
    fn serialize_f32(self, _: f32) -> Result<(), Declined> {
        Err(declined())
    }

    fn serialize_f64(self, _: f64) -> Result<(), Declined> {
        Err(declined())
    }

    fn serialize_char(self, v: char) -> Result<(), Declined> {
        write_string(v.encode_utf8(&mut [0u8; 4]), self.out);
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Declined> {
        write_string(v, self.out);
        Ok(())
    }

    // serde_json writes bytes as an array of numbers.
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Declined> {
        self.out.push(b'[');
        for (i, byte) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write_integer(u64::from(*byte), self.out)?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Declined> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Declined> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Declined> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Declined> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Declined> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Declined> {
        if is_private(name) {
            return Err(declined());
        }
        value.serialize(self)
    }

    // `{"variant":value}`: one member, nothing to sort.
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Declined> {
        self.outermost_member(variant)?;
        self.out.push(b'{');
        write_string(variant, self.out);
        self.out.push(b':');
        value.serialize(Writer {
            out: &mut *self.out,
            skip: None,
        })?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Array<'a>, Declined> {
        Ok(Array::open(self.out, b""))
    }

    fn serialize_tuple(self, _: usize) -> Result<Array<'a>, Declined> {
        Ok(Array::open(self.out, b""))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Array<'a>, Declined> {
        Ok(Array::open(self.out, b""))
    }

    // `{"variant":[…]}`.
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Array<'a>, Declined> {
        self.outermost_member(variant)?;
        self.out.push(b'{');
        write_string(variant, self.out);
        self.out.push(b':');
        Ok(Array::open(self.out, b"}"))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Object<'a, 'k>, Declined> {
        Ok(Object::open(self.out, self.skip, b""))
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Object<'a, 'k>, Declined> {
        if is_private(name) {
            return Err(declined());
        }
        Ok(Object::open(self.out, self.skip, b""))
    }

    // `{"variant":{…}}`.
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Object<'a, 'k>, Declined> {
        self.outermost_member(variant)?;
        self.out.push(b'{');
        write_string(variant, self.out);
        self.out.push(b':');
        Ok(Object::open(self.out, None, b"}"))
    }
}

/// An array being written: its items go straight to `out`.
struct Array<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
    /// Written after the `]` (the `}` of a tuple variant's object).
    close: &'static [u8],
}

impl<'a> Array<'a> {
    fn open(out: &'a mut Vec<u8>, close: &'static [u8]) -> Self {
        out.push(b'[');
        Array {
            out,
            empty: true,
            close,
        }
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Declined> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        value.serialize(Writer {
            out: &mut *self.out,
            skip: None,
        })
    }

    fn close(self) -> Result<(), Declined> {
        self.out.push(b']');
        self.out.extend_from_slice(self.close);
        Ok(())
    }
}

/// The four array-shaped compounds of serde, each an [`Array`] under another method name.
macro_rules! array_compound {
    ($($compound:ident :: $method:ident),*) => {$(
        impl ser::$compound for Array<'_> {
            type Ok = ();
            type Error = Declined;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Declined> {
                self.item(value)
            }
            fn end(self) -> Result<(), Declined> {
                self.close()
            }
        }
    )*};
}

array_compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// A member's name: a struct's field names are static, a map's keys are written out.
enum Key {
    Field(&'static str),
    Written(String),
}

impl Key {
    fn as_str(&self) -> &str {
        match self {
            Key::Field(name) => name,
            Key::Written(name) => name,
        }
    }
}

/// An object being written: each member's value goes to `values`, and the members are sorted
/// by name (UTF-16 code units) when the object closes.
struct Object<'a, 'k> {
    out: &'a mut Vec<u8>,
    skip: Option<&'k str>,
    values: Vec<u8>,
    members: Vec<(Key, Range<usize>)>,
    /// A map's key, until its value comes.
    key: Option<Key>,
    /// Written after the `}` (the `}` of a struct variant's object).
    close: &'static [u8],
}

impl<'a, 'k> Object<'a, 'k> {
    fn open(out: &'a mut Vec<u8>, skip: Option<&'k str>, close: &'static [u8]) -> Self {
        Object {
            out,
            skip,
            values: Vec::new(),
            members: Vec::new(),
            key: None,
            close,
        }
    }

    fn member<T: Serialize + ?Sized>(&mut self, key: Key, value: &T) -> Result<(), Declined> {
        if self.skip == Some(key.as_str()) {
            return Self::left_out(value);
        }
        let start = self.values.len();
        value.serialize(Writer {
            out: &mut self.values,
            skip: None,
        })?;
        self.members.push((key, start..self.values.len()));
        Ok(())
    }

    /// The member left out is still written, and thrown away: a value the general path could
    /// not turn into JSON fails there before the member is removed, so it declines here.
    fn left_out<T: Serialize + ?Sized>(value: &T) -> Result<(), Declined> {
        value.serialize(Writer {
            out: &mut Vec::new(),
            skip: None,
        })
    }

    fn close(mut self) -> Result<(), Declined> {
        sort_members(&mut self.members, |(key, _)| key.as_str());
        // A name twice: serde_json keeps the last value, which is the general path's call.
        if self
            .members
            .windows(2)
            .any(|pair| pair[0].0.as_str() == pair[1].0.as_str())
        {
            return Err(declined());
        }
        self.out.push(b'{');
        for (i, (key, range)) in self.members.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write_string(key.as_str(), self.out);
            self.out.push(b':');
            self.out.extend_from_slice(&self.values[range.clone()]);
        }
        self.out.push(b'}');
        self.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl ser::SerializeMap for Object<'_, '_> {
    type Ok = ();
    type Error = Declined;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Declined> {
        self.key = Some(Key::Written(key.serialize(KeyWriter)?));
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Declined> {
        let key = self.key.take().ok_or_else(declined)?;
        self.member(key, value)
    }

    fn end(self) -> Result<(), Declined> {
        self.close()
    }
}

/// A struct and a struct variant's fields: members of an [`Object`] under static names.
macro_rules! struct_compound {
    ($($compound:ident),*) => {$(
        impl ser::$compound for Object<'_, '_> {
            type Ok = ();
            type Error = Declined;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Declined> {
                self.member(Key::Field(key), value)
            }
            fn end(self) -> Result<(), Declined> {
                self.close()
            }
        }
    )*};
}

struct_compound!(SerializeStruct, SerializeStructVariant);

/// A map key: a string, a character, a unit variant (its name) or a newtype around one of
/// these. serde_json also turns numbers and booleans into keys; this writer leaves them to it.
struct KeyWriter;

impl ser::Serializer for KeyWriter {
    type Ok = String;
    type Error = Declined;
    type SerializeSeq = Impossible<String, Declined>;
    type SerializeTuple = Impossible<String, Declined>;
    type SerializeTupleStruct = Impossible<String, Declined>;
    type SerializeTupleVariant = Impossible<String, Declined>;
    type SerializeMap = Impossible<String, Declined>;
    type SerializeStruct = Impossible<String, Declined>;
    type SerializeStructVariant = Impossible<String, Declined>;

    fn serialize_str(self, v: &str) -> Result<String, Declined> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, Declined> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, Declined> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<String, Declined> {
        if is_private(name) {
            return Err(declined());
        }
        value.serialize(self)
    }
    fn serialize_bool(self, _: bool) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_i8(self, _: i8) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_i16(self, _: i16) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_i32(self, _: i32) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_i64(self, _: i64) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_u8(self, _: u8) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_u16(self, _: u16) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_u32(self, _: u32) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_u64(self, _: u64) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_f32(self, _: f32) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_f64(self, _: f64) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_none(self) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_unit(self) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Declined> {
        Err(declined())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Declined> {
        Err(declined())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Declined> {
        Err(declined())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Declined> {
        Err(declined())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Declined> {
        Err(declined())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Declined> {
        Err(declined())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Declined> {
        Err(declined())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Declined> {
        Err(declined())
    }
}
