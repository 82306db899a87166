//! Items a customer refused at the door: what, how many, and why.

/// Why an item was refused, as the courier records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefusalReason {
    Damaged,
    WrongItem,
    NotOrdered,
    ChangedMind,
    Quality,
    /// Anything else: the courier writes what.
    Other,
}

impl RefusalReason {
    pub const ALL: [RefusalReason; 6] = [
        RefusalReason::Damaged,
        RefusalReason::WrongItem,
        RefusalReason::NotOrdered,
        RefusalReason::ChangedMind,
        RefusalReason::Quality,
        RefusalReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::Damaged => "damaged",
            RefusalReason::WrongItem => "wrong_item",
            RefusalReason::NotOrdered => "not_ordered",
            RefusalReason::ChangedMind => "changed_mind",
            RefusalReason::Quality => "quality",
            RefusalReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<RefusalReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// The words, for messages: `damaged, wrong_item, …`.
    pub fn words() -> String {
        Self::ALL.map(RefusalReason::as_str).join(", ")
    }
}

/// One refused item, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedItem {
    /// What was refused as the courier names it (`Молоко 1 л`); empty when
    /// the whole order was refused without naming items.
    pub item: String,
    pub quantity: i64,
    pub reason: RefusalReason,
    /// Required for `other`, optional otherwise.
    pub note: Option<String>,
}

/// What is wrong with a refused item: the field and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalProblem {
    pub field: &'static str,
    pub message: String,
}

impl RefusedItem {
    /// Checks one item as a client gives it.
    pub fn check(
        item: &str,
        quantity: Option<i64>,
        reason: &str,
        note: Option<&str>,
        whole_order: bool,
    ) -> Result<RefusedItem, RefusalProblem> {
        let item = item.trim();
        if item.is_empty() && !whole_order {
            return Err(RefusalProblem {
                field: "item",
                message: "name the refused item (or refuse the whole order)".to_owned(),
            });
        }
        if item.chars().count() > 200 {
            return Err(RefusalProblem {
                field: "item",
                message: "at most 200 characters".to_owned(),
            });
        }
        let quantity = quantity.unwrap_or(1);
        if !(1..=10_000).contains(&quantity) {
            return Err(RefusalProblem {
                field: "quantity",
                message: format!("{quantity} is not a quantity (1 to 10000)"),
            });
        }
        let reason = RefusalReason::parse(reason).ok_or_else(|| RefusalProblem {
            field: "reason",
            message: format!(
                "{reason:?} is not a reason (one of: {})",
                RefusalReason::words()
            ),
        })?;
        let note = note
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(1000).collect::<String>());
        if reason == RefusalReason::Other && note.is_none() {
            return Err(RefusalProblem {
                field: "note",
                message: "say why when the reason is \"other\"".to_owned(),
            });
        }
        Ok(RefusedItem {
            item: item.to_owned(),
            quantity,
            reason,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_checked_with_the_field_named() {
        let ok = RefusedItem::check(" Молоко ", Some(2), "damaged", None, false).unwrap();
        assert_eq!((ok.item.as_str(), ok.quantity), ("Молоко", 2));
        assert_eq!(
            RefusedItem::check("", None, "damaged", None, false)
                .unwrap_err()
                .field,
            "item"
        );
        assert!(RefusedItem::check("", None, "changed_mind", None, true).is_ok());
        assert_eq!(
            RefusedItem::check("x", Some(0), "damaged", None, false)
                .unwrap_err()
                .field,
            "quantity"
        );
        let bad = RefusedItem::check("x", None, "smelly", None, false).unwrap_err();
        assert!(bad.message.contains("wrong_item"), "{}", bad.message);
        assert_eq!(
            RefusedItem::check("x", None, "other", Some("  "), false)
                .unwrap_err()
                .field,
            "note"
        );
    }
}
