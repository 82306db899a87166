//! Support figures of METRICS.md for a period — cases, resolutions,
//! first-contact resolution, the repeat-contact rate, SLA attainment per
//! deadline, the median first response in business time, CSAT — by line,
//! channel, operator, category, day, week or month.

use doorstep_domain::time::{date_of_day, day_number, week_start};
use doorstep_store::helpdesk::support::{SupportCounts, SupportGroups};
use serde::Serialize;

use crate::app::{problem, App, Problem};

/// What to count, as the caller writes it.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SupportQuery {
    /// First local day, `YYYY-MM-DD` (default: 29 days before `to`).
    #[param(pattern = r"^\s*(\d{4}-\d{2}-\d{2})?\s*$")]
    pub from: Option<String>,
    /// Last local day, inclusive (default: today).
    #[param(pattern = r"^\s*(\d{4}-\d{2}-\d{2})?\s*$")]
    pub to: Option<String>,
    /// `line`, `channel`, `operator`, `category`, `day`, `week`, `month`
    /// or `all` (one group for the whole period); default `line`.
    #[param(pattern = r"^\s*(all|line|channel|operator|category|day|week|month)?\s*$")]
    pub group_by: Option<String>,
}

/// How figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One group, `all`: the whole period.
    All,
    Line,
    Channel,
    Operator,
    Category,
    Day,
    Week,
    Month,
}

impl Grouping {
    pub const ALL: [Grouping; 8] = [
        Grouping::All,
        Grouping::Line,
        Grouping::Channel,
        Grouping::Operator,
        Grouping::Category,
        Grouping::Day,
        Grouping::Week,
        Grouping::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::All => "all",
            Grouping::Line => "line",
            Grouping::Channel => "channel",
            Grouping::Operator => "operator",
            Grouping::Category => "category",
            Grouping::Day => "day",
            Grouping::Week => "week",
            Grouping::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<Grouping> {
        Grouping::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// A checked request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportRequest {
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub group: Grouping,
}

impl SupportQuery {
    /// Reads the query; problems name the parameter.
    pub fn request(&self, today: jiff::civil::Date) -> Result<SupportRequest, Problem> {
        let (from, to) = crate::app::period(self.from.as_deref(), self.to.as_deref(), today)?;
        let group = match self.group_by.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
            None => Grouping::Line,
            Some(g) => Grouping::parse(g).ok_or_else(|| {
                problem(
                    "group_by",
                    format!(
                        "{g:?} is not a grouping (line, channel, operator, category, day, week, month or all)"
                    ),
                )
            })?,
        };
        Ok(SupportRequest { from, to, group })
    }
}

/// One group's figures. Rates are percentages (0–100, one decimal);
/// `null` when nothing was counted for them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SupportGroup {
    pub key: String,
    /// Cases opened in the period.
    pub cases: i64,
    /// Cases resolved in the period.
    pub resolved: i64,
    /// % of the resolved cases settled at the first contact: one customer
    /// contact and no new case about the same order or category within 7
    /// days.
    pub fcr: Option<f64>,
    /// % of customers who contacted us with two or more contacts on the
    /// same problem.
    pub repeat_contact_rate: Option<f64>,
    /// % of first-response deadlines falling in the period that were met.
    pub first_response_attainment: Option<f64>,
    /// % of resolution deadlines falling in the period that were met.
    pub resolution_attainment: Option<f64>,
    /// Median business time to the first reply by a person.
    pub median_first_response_seconds: Option<i64>,
    /// CSAT after resolution: % of answers of 4 or 5.
    pub csat: Option<f64>,
    /// What the rates were counted from.
    pub customers: i64,
    pub first_response_deadlines: i64,
    pub resolution_deadlines: i64,
    pub csat_answers: i64,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SupportAnswer {
    pub from: String,
    pub to: String,
    pub group_by: String,
    pub groups: Vec<SupportGroup>,
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (whole > 0).then(|| (1000.0 * part as f64 / whole as f64).round() / 10.0)
}

impl SupportGroup {
    fn new(key: String, c: &SupportCounts) -> SupportGroup {
        SupportGroup {
            key,
            cases: c.cases,
            resolved: c.resolved,
            fcr: percent(c.fcr, c.resolved_contacted),
            repeat_contact_rate: percent(c.repeat_customers, c.customers),
            first_response_attainment: percent(c.first_response_met, c.first_response_due),
            resolution_attainment: percent(c.resolution_met, c.resolution_due),
            median_first_response_seconds: c.median_first_response_ms.map(|ms| ms / 1000),
            csat: percent(c.csat_top2, c.csat_answers),
            customers: c.customers,
            first_response_deadlines: c.first_response_due,
            resolution_deadlines: c.resolution_due,
            csat_answers: c.csat_answers,
        }
    }
}

/// The local periods of a time grouping over `from..=to`, each with its
/// key (`YYYY-MM-DD` of its first day, `YYYY-MM` for months) and its first
/// and last local day; the first and last are cut to the range.
fn periods(req: &SupportRequest) -> Vec<(String, i64, i64)> {
    let (first, last) = (day_number(req.from), day_number(req.to));
    let mut out = Vec::new();
    let mut day = first;
    while day <= last {
        let date = date_of_day(day);
        let (key, next) = match req.group {
            Grouping::Week => (
                date_of_day(week_start(day)).to_string(),
                week_start(day) + 7,
            ),
            Grouping::Month => {
                let start = date.first_of_month();
                let next = start
                    .checked_add(jiff::Span::new().months(1))
                    .map_or(last + 1, day_number);
                (format!("{:04}-{:02}", start.year(), start.month()), next)
            }
            _ => (date.to_string(), day + 1),
        };
        let end = next.min(last + 1);
        out.push((key, day, end - 1));
        day = end;
    }
    out
}

/// The figures for a request, groups in key order (periods in time order).
pub async fn compute(app: &App, req: &SupportRequest) -> anyhow::Result<SupportAnswer> {
    figures(&app.store, &app.deployment().tz(), req).await
}

/// [`compute`] from a store, days in `tz`.
pub async fn figures(
    store: &doorstep_store::Store,
    tz: &jiff::tz::TimeZone,
    req: &SupportRequest,
) -> anyhow::Result<SupportAnswer> {
    let (first, last) = (day_number(req.from), day_number(req.to));
    let dimension = match req.group {
        Grouping::Line => Some(SupportGroups::Line),
        Grouping::Channel => Some(SupportGroups::Channel),
        Grouping::Operator => Some(SupportGroups::Operator),
        Grouping::Category => Some(SupportGroups::Category),
        Grouping::All | Grouping::Day | Grouping::Week | Grouping::Month => None,
    };
    let groups = if let Some(dimension) = dimension {
        store
            .support_counts(first, last, tz, &dimension)
            .await?
            .iter()
            .map(|(k, c)| SupportGroup::new(k.clone(), c))
            .collect()
    } else {
        let periods = if req.group == Grouping::All {
            vec![("all".to_owned(), first, last)]
        } else {
            periods(req)
        };
        let spans = periods.iter().map(|(_, a, b)| (*a, *b)).collect();
        let counts = store
            .support_counts(first, last, tz, &SupportGroups::Periods(spans))
            .await?;
        // Every period, in order, counted or not.
        periods
            .into_iter()
            .enumerate()
            .map(|(i, (key, _, _))| {
                let c = counts.get(&i.to_string()).cloned().unwrap_or_default();
                SupportGroup::new(key, &c)
            })
            .collect()
    };
    Ok(SupportAnswer {
        from: req.from.to_string(),
        to: req.to.to_string(),
        group_by: req.group.as_str().to_owned(),
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_cover_the_range_in_local_days() {
        let req = SupportRequest {
            from: jiff::civil::date(2026, 11, 27),
            to: jiff::civil::date(2026, 12, 9),
            group: Grouping::Week,
        };
        let p = periods(&req);
        let keys: Vec<&str> = p.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, ["2026-11-23", "2026-11-30", "2026-12-07"]);
        // Cut to the range, contiguous.
        assert_eq!(p[0].1, day_number(req.from));
        assert!(p.windows(2).all(|w| w[0].2 + 1 == w[1].1));
        assert_eq!(p[2].2, day_number(req.to));
        let months = periods(&SupportRequest {
            group: Grouping::Month,
            ..req
        });
        let keys: Vec<&str> = months.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, ["2026-11", "2026-12"]);
        let days = periods(&SupportRequest {
            group: Grouping::Day,
            ..req
        });
        assert_eq!(days.len(), 13);
    }

    #[test]
    fn groupings_and_dates_are_checked() {
        let today = jiff::civil::date(2026, 12, 6);
        let q = |from: &str, group: &str| SupportQuery {
            from: Some(from.into()),
            to: None,
            group_by: Some(group.into()),
        };
        assert_eq!(
            q("2026-12-01", "week").request(today).unwrap().group,
            Grouping::Week
        );
        assert_eq!(
            q("2026-12-01", "courier").request(today).unwrap_err().field,
            "group_by"
        );
        assert_eq!(
            q("2026-12-31", "day").request(today).unwrap_err().field,
            "from"
        );
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent(0, 0), None);
    }
}
