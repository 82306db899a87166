//! Phone numbers: the customer's key, always stored in E.164 (`+79161234567`).
//!
//! Offices write numbers every way there is: `8 (916) 123-45-67`,
//! `+7 916 1234567`, `79161234567`, `0671234567`. A number without a country
//! code is read with the deployment's default country. The table covers the
//! countries Doorstep's users deliver in; any other number is accepted when it
//! is written internationally (`+` or `00`) with a plausible length.

use std::fmt;

/// A country's dialling plan, as far as normalisation needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code.
    pub code: &'static str,
    /// Country calling code, digits only.
    pub calling_code: &'static str,
    /// Prefix dialled before a national number inside the country.
    pub trunk_prefix: &'static str,
    /// Length of the national significant number.
    pub national_len: usize,
    /// An example as people write it, shown in error messages.
    pub example: &'static str,
}

const COUNTRIES: &[Country] = &[
    Country {
        code: "RU",
        calling_code: "7",
        trunk_prefix: "8",
        national_len: 10,
        example: "8 (916) 123-45-67",
    },
    Country {
        code: "KZ",
        calling_code: "7",
        trunk_prefix: "8",
        national_len: 10,
        example: "8 (701) 123-45-67",
    },
    Country {
        code: "UA",
        calling_code: "380",
        trunk_prefix: "0",
        national_len: 9,
        example: "067 123 45 67",
    },
    Country {
        code: "BY",
        calling_code: "375",
        trunk_prefix: "80",
        national_len: 9,
        example: "8 029 123-45-67",
    },
    Country {
        code: "UZ",
        calling_code: "998",
        trunk_prefix: "8",
        national_len: 9,
        example: "90 123-45-67",
    },
    Country {
        code: "KG",
        calling_code: "996",
        trunk_prefix: "0",
        national_len: 9,
        example: "0555 123 456",
    },
    Country {
        code: "TJ",
        calling_code: "992",
        trunk_prefix: "8",
        national_len: 9,
        example: "93 123 4567",
    },
    Country {
        code: "AM",
        calling_code: "374",
        trunk_prefix: "0",
        national_len: 8,
        example: "091 123456",
    },
    Country {
        code: "AZ",
        calling_code: "994",
        trunk_prefix: "0",
        national_len: 9,
        example: "050 123 45 67",
    },
    Country {
        code: "GE",
        calling_code: "995",
        trunk_prefix: "0",
        national_len: 9,
        example: "555 12 34 56",
    },
    Country {
        code: "MD",
        calling_code: "373",
        trunk_prefix: "0",
        national_len: 8,
        example: "069 123 456",
    },
];

impl Country {
    /// The supported countries, for settings forms.
    pub fn all() -> &'static [Country] {
        COUNTRIES
    }

    /// Looks a country up by its ISO code (any case).
    pub fn from_code(code: &str) -> Option<Country> {
        COUNTRIES
            .iter()
            .find(|c| c.code.eq_ignore_ascii_case(code.trim()))
            .copied()
    }
}

/// A phone number in E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a phone number (expected e.g. {example} or +{calling_code} …)")]
pub struct PhoneError {
    pub input: String,
    pub example: &'static str,
    pub calling_code: &'static str,
}

impl Phone {
    /// Parses a number as people write it; `default` is the country assumed
    /// when the number carries no country code.
    pub fn parse(input: &str, default: Country) -> Result<Phone, PhoneError> {
        let err = || PhoneError {
            input: input.to_owned(),
            example: default.example,
            calling_code: default.calling_code,
        };
        let trimmed = input.trim();
        let mut digits = String::with_capacity(16);
        let mut plus = false;
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                ' ' | '-' | '(' | ')' | '.' | '\u{a0}' | '\t' => {}
                _ => return Err(err()),
            }
        }
        let international = if plus {
            Some(digits.as_str())
        } else {
            digits.strip_prefix("00")
        };
        let e164 = match international {
            Some(intl) => international_number(intl),
            None => national_number(&digits, default),
        }
        .ok_or_else(err)?;
        Ok(Phone(e164))
    }

    /// Every number `input` may mean: read with `default` first, then with
    /// each other known country (a Ukrainian `063 050 61 52` typed into a
    /// Russian company's search), without repeats; none when it reads in no
    /// country.
    pub fn candidates(input: &str, default: Country) -> Vec<Phone> {
        let mut found: Vec<Phone> = Vec::new();
        for country in std::iter::once(default).chain(COUNTRIES.iter().copied()) {
            if let Ok(p) = Phone::parse(input, country) {
                if !found.contains(&p) {
                    found.push(p);
                }
            }
        }
        found
    }

    /// Trusts a value that was stored by `parse` before.
    pub fn from_stored(e164: String) -> Phone {
        Phone(e164)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn international_number(digits: &str) -> Option<String> {
    if digits.starts_with('0') {
        return None;
    }
    // The longest calling code that matches decides the expected length.
    let known = COUNTRIES
        .iter()
        .filter(|c| digits.starts_with(c.calling_code))
        .max_by_key(|c| c.calling_code.len());
    let plausible = match known {
        Some(c) => digits.len() == c.calling_code.len() + c.national_len,
        None => (8..=15).contains(&digits.len()),
    };
    plausible.then(|| format!("+{digits}"))
}

fn national_number(digits: &str, country: Country) -> Option<String> {
    let national = if digits.len() == country.national_len {
        Some(digits)
    } else if digits.len() == country.trunk_prefix.len() + country.national_len {
        digits.strip_prefix(country.trunk_prefix)
    } else {
        None
    };
    match national {
        Some(n) => Some(format!("+{}{n}", country.calling_code)),
        // Written internationally but without the plus: 79161234567.
        None if digits.len() == country.calling_code.len() + country.national_len
            && digits.starts_with(country.calling_code) =>
        {
            Some(format!("+{digits}"))
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{Country, Phone};

    fn ru() -> Country {
        Country::from_code("ru").unwrap()
    }

    #[test]
    fn a_number_typed_as_another_country_writes_it_is_found_too() {
        let found: Vec<String> = Phone::candidates("063 050 61 52", ru())
            .into_iter()
            .map(Phone::into_string)
            .collect();
        assert!(found.contains(&"+380630506152".to_owned()), "{found:?}");
        assert_eq!(
            Phone::candidates("8 (916) 123-45-67", ru())[0].as_str(),
            "+79161234567"
        );
        assert!(Phone::candidates("hello", ru()).is_empty());
    }

    #[test]
    fn normalises_russian_office_spellings() {
        for input in [
            "8 (916) 123-45-67",
            "+7 916 123-45-67",
            "79161234567",
            "9161234567",
            "+7(916)1234567",
            "007 916 123 45 67",
            " 8-916-123-45-67 ",
        ] {
            assert_eq!(
                Phone::parse(input, ru()).unwrap().as_str(),
                "+79161234567",
                "{input}"
            );
        }
    }

    #[test]
    fn reads_national_numbers_with_the_default_country() {
        let ua = Country::from_code("UA").unwrap();
        assert_eq!(
            Phone::parse("067 123 45 67", ua).unwrap().as_str(),
            "+380671234567"
        );
        let uz = Country::from_code("UZ").unwrap();
        assert_eq!(
            Phone::parse("90 123-45-67", uz).unwrap().as_str(),
            "+998901234567"
        );
        let by = Country::from_code("BY").unwrap();
        assert_eq!(
            Phone::parse("8 029 123-45-67", by).unwrap().as_str(),
            "+375291234567"
        );
    }

    #[test]
    fn international_numbers_keep_their_country() {
        assert_eq!(
            Phone::parse("+998 90 123 45 67", ru()).unwrap().as_str(),
            "+998901234567"
        );
        assert_eq!(
            Phone::parse("+49 30 1234567", ru()).unwrap().as_str(),
            "+49301234567"
        );
    }

    /// Property: normalising twice changes nothing, and every office
    /// spelling of a number gives the same E.164.
    #[test]
    fn normalisation_is_idempotent_and_spelling_blind() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        for _ in 0..5_000 {
            let country = Country::all()[rng.gen_range(0..Country::all().len())];
            let national: String = (0..country.national_len)
                .map(|i| {
                    char::from(
                        b'0' + if i == 0 {
                            rng.gen_range(1..10)
                        } else {
                            rng.gen_range(0..10)
                        },
                    )
                })
                .collect();
            let expected = format!("+{}{national}", country.calling_code);
            let spaced: String = national
                .chars()
                .enumerate()
                .flat_map(|(i, c)| if i % 3 == 2 { vec![c, ' '] } else { vec![c] })
                .collect();
            for spelling in [
                expected.clone(),
                format!("{}{national}", country.trunk_prefix),
                format!("({}) {spaced}", country.trunk_prefix),
                format!("00{} {spaced}", country.calling_code),
                national.clone(),
            ] {
                let parsed =
                    Phone::parse(&spelling, country).unwrap_or_else(|e| panic!("{spelling}: {e}"));
                assert_eq!(parsed.as_str(), expected, "{spelling}");
                assert_eq!(Phone::parse(parsed.as_str(), country).unwrap(), parsed);
            }
        }
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        for input in [
            "",
            "916-12",
            "+7 916 123 45 678",
            "call me",
            "8 916 123 45 67 доб. 12",
            "+0123456789",
        ] {
            let err = Phone::parse(input, ru()).unwrap_err();
            assert!(err.to_string().contains("is not a phone number"), "{input}");
        }
    }
}
