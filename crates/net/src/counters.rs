//! The counter sets the interface and the TCP stack keep: plain `u64`s
//! the kernel prints, declared once each with [`counter_set!`], and the
//! two ways they grow (never overflowing).

/// Declares a counter struct: one `pub u64` field per name (with its doc),
/// `ZERO`, `iter()` over `(name, value)` in declaration order,
/// `described()` over `(name, doc, value)` (for a metrics page), and a
/// `Display` of one `{prefix}{name} {value}` line per counter.
macro_rules! counter_set {
    (
        $(#[$meta:meta])*
        pub struct $ty:ident, prefix $prefix:literal {
            $( $(#[doc = $doc:literal])+ $name:ident, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $ty {
            $( $(#[doc = $doc])+ pub $name: u64, )+
        }

        impl $ty {
            /// All zero (usable in `const` context).
            pub const ZERO: $ty = $ty { $( $name: 0, )+ };

            /// Every counter as `(name, value)`, in declaration order.
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
                [$( (stringify!($name), self.$name), )+].into_iter()
            }

            /// Every counter as `(name, doc, value)`, in declaration
            /// order: its doc comment's lines joined, trimmed.
            pub fn described(
                &self,
            ) -> impl Iterator<Item = (&'static str, &'static str, u64)> + Clone {
                [$( (stringify!($name), concat!($($doc),+).trim_ascii(), self.$name), )+]
                    .into_iter()
            }
        }

        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                for (name, value) in self.iter() {
                    writeln!(f, "{}{name} {value}", $prefix)?;
                }
                Ok(())
            }
        }
    };
}
pub(crate) use counter_set;

/// Adds one without ever overflowing.
pub(crate) fn bump(c: &mut u64) {
    *c = c.wrapping_add(1);
}

/// Adds `n` without ever overflowing.
pub(crate) fn add(c: &mut u64, n: usize) {
    *c = c.wrapping_add(n as u64);
}

#[cfg(test)]
mod tests {
    use std::string::ToString;
    use std::vec::Vec;

    use super::*;

    counter_set! {
        /// Two counters for the test.
        pub struct Pair, prefix "p_" {
            /// The first.
            one,
            /// The second, whose doc
            /// takes two lines.
            two,
        }
    }

    #[test]
    fn a_set_lists_and_prints_its_counters_in_order() {
        let mut c = Pair::ZERO;
        assert_eq!(c, Pair::default());
        bump(&mut c.two);
        add(&mut c.one, 5);
        let all: Vec<_> = c.iter().collect();
        assert_eq!(all, [("one", 5), ("two", 1)]);
        assert_eq!(c.to_string(), "p_one 5\np_two 1\n");
        let described: Vec<_> = c.described().collect();
        assert_eq!(
            described,
            [
                ("one", "The first.", 5),
                ("two", "The second, whose doc takes two lines.", 1)
            ]
        );
    }

    #[test]
    fn counters_wrap_instead_of_overflowing() {
        let mut c = u64::MAX;
        bump(&mut c);
        assert_eq!(c, 0);
        let mut d = u64::MAX - 1;
        add(&mut d, 3);
        assert_eq!(d, 1);
    }
}
