//! Cases: one customer problem across any number of contacts, on any
//! channel, owned by one operator of a line until it is resolved.

use super::vocabulary;

vocabulary! {
    /// Where a contact came from.
    CaseChannel {
        Phone => "phone",
        Chat => "chat",
        Email => "email",
        Social => "social",
        Messenger => "messenger",
        App => "app",
        Terminal => "terminal",
        Survey => "survey",
        /// Opened by Doorstep itself, telling the customer first (a late
        /// order).
        Proactive => "proactive",
    }
}

vocabulary! {
    /// Who a line serves, each with its own queue (Express24's two lines).
    Line {
        /// Customers and partners.
        Customers => "customers",
        Couriers => "couriers",
    }
}

vocabulary! {
    /// Where a case is.
    CaseStatus {
        New => "new",
        Open => "open",
        WaitingCustomer => "waiting_customer",
        WaitingDepartment => "waiting_department",
        Resolved => "resolved",
        Closed => "closed",
    }
}

vocabulary! {
    /// Who was at fault, recorded once the customer is helped.
    Fault {
        Courier => "courier",
        Picker => "picker",
        Operator => "operator",
        Partner => "partner",
        Carrier => "carrier",
        Customer => "customer",
        Unknown => "unknown",
    }
}

vocabulary! {
    /// Which way a contact went.
    Direction {
        Inbound => "inbound",
        Outbound => "outbound",
    }
}

impl Fault {
    /// The department a case is handed to for this fault: every party but
    /// the customer and "unknown".
    pub fn department(self) -> Option<Fault> {
        match self {
            Fault::Customer | Fault::Unknown => None,
            other => Some(other),
        }
    }
}

impl CaseStatus {
    /// Still someone's work: not resolved or closed.
    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Resolved | CaseStatus::Closed)
    }
}

/// The longest text a contact or note may carry.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// The key under which a customer's open case about an order (or, without
/// an order, about anything; without a phone either, in one messenger
/// conversation) is unique: a new contact joins that case.
pub fn open_key(
    order_number: Option<&str>,
    customer_phone: Option<&str>,
    conversation: Option<&str>,
) -> Option<String> {
    match (order_number, customer_phone, conversation) {
        (Some(order), _, _) => Some(format!("order:{order}")),
        (None, Some(phone), _) => Some(format!("phone:{phone}")),
        (None, None, Some(c)) => Some(format!("conversation:{c}")),
        (None, None, None) => None,
    }
}

/// Checks a contact's text: not blank, not longer than [`MAX_TEXT_CHARS`].
pub fn check_text(text: &str) -> Result<&str, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("write what the customer said or asked (it may not be empty)".to_owned());
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(format!(
            "at most {MAX_TEXT_CHARS} characters; attach long documents elsewhere and summarise"
        ));
    }
    Ok(text)
}

/// Checks a category id as an administrator types it.
pub fn check_category_id(id: &str) -> Result<(), String> {
    if id.is_empty()
        || id.len() > 40
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err("use 1 to 40 lower-case Latin letters, digits or '_'".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_match_their_json() {
        for c in CaseChannel::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        for s in CaseStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for f in Fault::ALL {
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
        assert_eq!(CaseChannel::parse("fax"), None);
        assert_eq!(Line::parse("couriers"), Some(Line::Couriers));
    }

    #[test]
    fn one_open_case_per_order_else_per_customer() {
        assert_eq!(
            open_key(Some("A-1"), Some("+79001234567"), None).as_deref(),
            Some("order:A-1")
        );
        assert_eq!(
            open_key(None, Some("+79001234567"), Some("telegram:42")).as_deref(),
            Some("phone:+79001234567")
        );
        assert_eq!(
            open_key(None, None, Some("telegram:42")).as_deref(),
            Some("conversation:telegram:42")
        );
        assert_eq!(open_key(None, None, None), None);
        assert!(CaseStatus::WaitingCustomer.is_open());
        assert!(!CaseStatus::Resolved.is_open());
    }

    #[test]
    fn texts_and_category_ids_are_checked() {
        assert_eq!(check_text("  late again \n"), Ok("late again"));
        assert!(check_text("   ").is_err());
        assert!(check_text(&"x".repeat(MAX_TEXT_CHARS + 1)).is_err());
        assert!(check_category_id("wrong_item").is_ok());
        assert!(check_category_id("Wrong item").is_err());
        assert!(check_category_id("").is_err());
    }
}
