//! The chat's self-service answers (seed 003: most contacts are general
//! questions): what the assistant says on a case before a person joins,
//! with the mark of where the conversation stands ("bot: where", "bot:
//! person", …, a line of the case's timeline), the events it raises and a
//! call-back it asks for — all in one transaction, once per customer
//! message (the reply's `external_id`).

use doorstep_domain::helpdesk::cases::Direction;

use super::cases::{contact_in, entry_case, insert_line, lock_case, Case, NewContact};
use crate::events::NewEvent;
use crate::{Store, StoreError};

/// How a mark of the assistant reads on the timeline: this, then the mark.
pub const BOT_MARK: &str = "bot: ";

/// Who the assistant is on the timeline.
pub const BOT_AUTHOR: &str = "assistant";

/// The rule of the incident a customer's "call me back" raises.
pub const CALLBACK_REQUEST_RULE: &str = "callback_request";

/// What the assistant answers to one customer message.
#[derive(Debug, Clone)]
pub struct BotAnswer<'a> {
    /// Makes the answer once per customer message.
    pub key: &'a str,
    /// The channel it goes back on (the customer's).
    pub channel: &'a str,
    pub text: &'a str,
    pub mark: &'a str,
    /// Raise an incident: the customer asked to be called back.
    pub call_back: Option<String>,
    /// Events for the company's systems (a change of the delivery asked).
    pub events: Vec<NewEvent>,
}

impl Store {
    /// Writes the assistant's answer on an open case; `false` when it was
    /// written before (the same message again) or the case is closed.
    pub async fn bot_answer(
        &self,
        case_id: &str,
        answer: &BotAnswer<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await?;
        if entry_case(&mut tx, answer.key).await?.is_some() {
            tx.rollback().await?;
            return Ok(false);
        }
        let Some(case) = lock_case(&mut tx, case_id).await?.filter(Case::is_open) else {
            tx.rollback().await?;
            return Ok(false);
        };
        let contact = NewContact {
            channel: answer.channel,
            direction: Direction::Outbound,
            text: answer.text,
            author: BOT_AUTHOR,
            external_id: Some(answer.key),
            by_person: false,
            attachment_id: None,
            follows_previous: false,
        };
        let Some((case, mut events)) = contact_in(&mut tx, &case, &contact).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        insert_line(
            &mut tx,
            &case.id,
            "event",
            &format!("{BOT_MARK}{}", answer.mark),
            BOT_AUTHOR,
        )
        .await?;
        if let Some(reason) = &answer.call_back {
            events.extend(
                super::incidents::raise_request(
                    &mut tx,
                    &case,
                    CALLBACK_REQUEST_RULE,
                    reason.clone(),
                )
                .await?,
            );
        }
        events.extend(answer.events.iter().cloned());
        self.commit_with_events(tx, &events).await?;
        Ok(true)
    }

    /// Chats opened in `[from, to)` and those settled without a person
    /// (METRICS.md, containment): resolved with no reply by a person.
    pub async fn chat_containment(&self, from: i64, to: i64) -> Result<(i64, i64), StoreError> {
        self.db
            .one(
                crate::db::sql(
                    "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN c.status IN ('resolved', 'closed') \
                     AND NOT EXISTS (SELECT 1 FROM case_entries e WHERE e.case_id = c.id AND e.by_person) \
                     THEN 1 ELSE 0 END), 0) AS BIGINT) \
                     FROM cases c WHERE c.channel IN ('chat', 'messenger', 'social', 'app') \
                     AND c.created_at >= $1 AND c.created_at < $2",
                )
                .bind(from)
                .bind(to),
            )
            .await
    }
}
