//! The tally's counters as rollup columns: written in the declaration's
//! order, read back by name, summed by the database.

use doorstep_domain::survey::metrics::{Counter, Tally, Value};

use crate::db::Sql;

pub(super) fn push_tally(q: &mut Sql, t: &Tally) {
    for v in t.values() {
        match v {
            Value::Int(v) => q.push_arg(v),
            Value::Real(v) => q.push_arg(v),
        }
    }
}

/// A rollup row's counters as read back, by their names.
pub(super) struct Counters(pub(super) Tally);

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for Counters
where
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Counters, sqlx::Error> {
        Tally::read(|c| {
            if c.real {
                row.try_get::<f64, _>(c.name).map(Value::Real)
            } else {
                row.try_get::<i64, _>(c.name).map(Value::Int)
            }
        })
        .map(Counters)
    }
}

/// The counters' column names, in declaration order, comma-separated.
pub(super) fn counter_names() -> String {
    Tally::COUNTERS
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `SUM` of every counter, named as the counter (typed alike on both
/// databases: PostgreSQL sums integers into numerics).
pub(super) fn summed_counters() -> String {
    Tally::COUNTERS
        .iter()
        .map(|&Counter { name: c, real }| {
            if real {
                format!("COALESCE(SUM({c}), 0.0) AS {c}")
            } else {
                format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT) AS {c}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
