//! Incidents: an answer that needs a person, on the dispatcher's queue.
//! Raised open by an alert rule, claimed by one dispatcher, worked by
//! call-back attempts, closed with an outcome (or turned into a case).

use super::vocabulary;

vocabulary! {
    /// Where an incident is in its life.
    IncidentStatus {
        Open => "open",
        Claimed => "claimed",
        Closed => "closed",
    }
}

vocabulary! {
    /// What a call-back attempt came to.
    AttemptResult {
        /// The customer was reached and heard.
        Reached => "reached",
        /// No answer, busy, switched off.
        NotReached => "not_reached",
        /// Reached, but asked to be called at another time.
        CallAgain => "call_again",
    }
}

vocabulary! {
    /// How an incident ended (METRICS.md: the recovery rate counts
    /// `recovered` among the closed).
    Outcome {
        /// Resolved, the customer satisfied.
        Recovered => "recovered",
        /// Reached, but the customer stayed unhappy.
        NotRecovered => "not_recovered",
        /// Never reached after the attempts made.
        Unreachable => "unreachable",
        /// Nothing to do (a mistaken score, already handled).
        NoActionNeeded => "no_action_needed",
        /// Handed on as a support case.
        CaseOpened => "case_opened",
    }
}

/// The rank that orders the queue: urgent first.
pub fn rank(priority: super::alerts::Priority) -> i64 {
    match priority {
        super::alerts::Priority::Urgent => 0,
        super::alerts::Priority::High => 1,
        super::alerts::Priority::Normal => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_serde_agree() {
        for s in IncidentStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(IncidentStatus::parse(s.as_str()), Some(*s));
        }
        for r in AttemptResult::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for o in Outcome::ALL {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        assert_eq!(IncidentStatus::parse("opened"), None);
        assert_eq!(IncidentStatus::words(), "open, claimed, closed");
    }

    #[test]
    fn urgent_comes_first() {
        use crate::helpdesk::alerts::Priority;
        assert!(rank(Priority::Urgent) < rank(Priority::High));
        assert!(rank(Priority::High) < rank(Priority::Normal));
    }
}
