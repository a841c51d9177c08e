//! A converted customer kept small until it is written. An import holds
//! every converted row at once, because the duplicate check compares each
//! row with all the others. As a struct a row takes about 1 KB, most of it
//! optional texts left empty; packed with postcard (lengths and bytes, one
//! byte per empty field) it takes about a quarter of that.

use crate::contacts::ContactFields;
use crate::customers::{CustomerFields, NewCustomer};

pub struct PackedCustomer {
    name: Box<str>,
    bytes: Box<[u8]>,
}

impl PackedCustomer {
    pub fn pack(c: &NewCustomer) -> Self {
        // A tuple, not NewCustomer itself: postcard does not store field
        // names, so it cannot read back NewCustomer's flattened fields.
        let bytes = postcard::to_allocvec(&(&c.fields, &c.contacts, &c.tags))
            .expect("customer fields always encode");
        PackedCustomer {
            name: c.fields.name.as_str().into(),
            bytes: bytes.into_boxed_slice(),
        }
    }

    /// The customer's name, without unpacking.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn unpack(&self) -> NewCustomer {
        let (fields, contacts, tags): (CustomerFields, Vec<ContactFields>, Vec<String>) =
            postcard::from_bytes(&self.bytes).expect("bytes written by pack");
        NewCustomer {
            fields,
            contacts,
            tags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::{CustomerKind, Grade, Status};
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = Option<String>> {
        prop::option::of("[\\u4e00-\\u9fa5a-zA-Z0-9 @.\\-]{0,12}")
    }

    prop_compose! {
        fn contact()(name in "[\\u4e00-\\u9fa5]{0,4}", title in text(), mobile in text(),
                     phone in text(), email in text(), wechat in text(),
                     is_primary in any::<bool>(), notes in text()) -> ContactFields {
            ContactFields { name, title, mobile, phone, email, wechat, is_primary, notes }
        }
    }

    prop_compose! {
        fn customer()(name in ".{0,20}", texts in prop::collection::vec(text(), 12),
                      grade in prop::option::of(prop::sample::select(vec![Grade::A, Grade::B, Grade::C])),
                      status in prop::sample::select(vec![Status::Prospect, Status::Interested, Status::Won, Status::Lost]),
                      person in any::<bool>(),
                      budget in prop::option::of(any::<f64>()), annual in prop::option::of(0.0..1e12f64),
                      contacts in prop::collection::vec(contact(), 0..3),
                      tags in prop::collection::vec(".{0,6}", 0..4)) -> NewCustomer {
            let mut t = texts.into_iter();
            let mut next = || t.next().unwrap();
            NewCustomer {
                fields: CustomerFields {
                    name,
                    kind: if person { CustomerKind::Individual } else { CustomerKind::Company },
                    industry: next(), size: next(), province: next(), city: next(),
                    district: next(), address: next(), source: next(), status, grade,
                    owner_id: next(), needs: next(), budget, purchase_cycle: next(),
                    annual_purchase: annual, first_contact_date: next(), notes: next(),
                },
                contacts,
                tags,
            }
        }
    }

    proptest! {
        #[test]
        fn a_packed_customer_unpacks_to_the_same_customer(c in customer()) {
            let packed = PackedCustomer::pack(&c);
            prop_assert_eq!(packed.name(), c.fields.name.as_str());
            let back = packed.unpack();
            // NaN is not equal to itself; compare budgets by their bits.
            prop_assert_eq!(back.fields.budget.map(f64::to_bits), c.fields.budget.map(f64::to_bits));
            prop_assert_eq!(
                CustomerFields { budget: None, ..back.fields },
                CustomerFields { budget: None, ..c.fields }
            );
            prop_assert_eq!(back.contacts, c.contacts);
            prop_assert_eq!(back.tags, c.tags);
        }
    }
}
