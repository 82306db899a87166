//! Deployment settings: who this Doorstep is for and how it reads local data.

use jiff::tz::TimeZone;

use crate::phone::Country;

/// Settings an admin edits in the console; stored in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The company's name, shown in the console and to customers.
    pub name: String,
    /// IANA time zone for local times in imports, days and weeks.
    pub time_zone: String,
    /// ISO country assumed for phone numbers written without a country code.
    pub phone_country: String,
    /// ISO 4217 currency of amounts and compensations.
    pub currency: String,
    /// How refusals and time-outs enter NPS (METRICS.md).
    pub refusal_policy: crate::survey::metrics::RefusalPolicy,
    /// The most an operator may grant on one case (minor units) before a
    /// dispatcher or an admin must approve.
    pub operator_limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{0:?} is not an IANA time zone (e.g. Europe/Moscow, Asia/Tashkent)")]
    TimeZone(String),
    #[error("{0:?} is not a supported phone country (expected one of: {1})")]
    Country(String, String),
    #[error("{0:?} is not a currency code (expected three letters, e.g. RUB, UZS)")]
    Currency(String),
    #[error("the name must be 1 to 100 characters")]
    Name,
    #[error("an operator's limit per case is 0 to 100000000 minor units, not {0}")]
    OperatorLimit(i64),
}

impl Default for Deployment {
    fn default() -> Self {
        Deployment {
            name: "Doorstep".to_owned(),
            time_zone: "Europe/Moscow".to_owned(),
            phone_country: "RU".to_owned(),
            currency: "RUB".to_owned(),
            refusal_policy: crate::survey::metrics::RefusalPolicy::Exclude,
            operator_limit: 100_000,
        }
    }
}

impl Deployment {
    /// Checks and tidies settings typed by a person.
    pub fn validated(self) -> Result<Deployment, SettingsError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(SettingsError::Name);
        }
        let time_zone = self.time_zone.trim().to_owned();
        if TimeZone::get(&time_zone).is_err() {
            return Err(SettingsError::TimeZone(time_zone));
        }
        let country = Country::from_code(&self.phone_country).ok_or_else(|| {
            let all: Vec<&str> = Country::all().iter().map(|c| c.code).collect();
            SettingsError::Country(self.phone_country.clone(), all.join(", "))
        })?;
        let currency = self.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(SettingsError::Currency(self.currency));
        }
        if !(0..=crate::helpdesk::remedies::MAX_AMOUNT).contains(&self.operator_limit) {
            return Err(SettingsError::OperatorLimit(self.operator_limit));
        }
        Ok(Deployment {
            name,
            time_zone,
            phone_country: country.code.to_owned(),
            currency,
            refusal_policy: self.refusal_policy,
            operator_limit: self.operator_limit,
        })
    }

    /// The deployment's time zone; UTC if the stored name no longer resolves.
    pub fn tz(&self) -> TimeZone {
        TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC)
    }

    /// The default phone country; Russia if the stored code is unknown.
    pub fn country(&self) -> Country {
        Country::from_code(&self.phone_country).unwrap_or(Country::all()[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_and_tidies() {
        let ok = Deployment {
            name: " Express ".into(),
            time_zone: "Asia/Tashkent".into(),
            phone_country: "uz".into(),
            currency: "uzs".into(),
            ..Deployment::default()
        }
        .validated()
        .unwrap();
        assert_eq!(
            (
                ok.name.as_str(),
                ok.phone_country.as_str(),
                ok.currency.as_str()
            ),
            ("Express", "UZ", "UZS")
        );
        let bad_tz = Deployment {
            time_zone: "Mars/Olympus".into(),
            ..Deployment::default()
        };
        assert!(matches!(
            bad_tz.validated(),
            Err(SettingsError::TimeZone(_))
        ));
        let bad_country = Deployment {
            phone_country: "XX".into(),
            ..Deployment::default()
        };
        assert!(bad_country
            .validated()
            .unwrap_err()
            .to_string()
            .contains("RU, KZ"));
    }
}
