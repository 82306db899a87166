//! The courier's own scores, for the terminal's "My scores": his NPS with
//! its interval this week and the four before, beside his city's; what
//! promoters wrote about his deliveries (their words only: no name, phone,
//! order or date finer than the day); and, when the company turns it on,
//! his city's leaderboard of named colleagues (ranked as the console ranks
//! them: by the lower bound of the adjusted interval).

use doorstep_domain::survey::Dimensions;
use doorstep_domain::time::{date_of_day, day_number, from_millis, week_start};
use doorstep_domain::Deployment;
use doorstep_store::survey::rollups::GroupBy;
use doorstep_store::Store;
use serde::Serialize;

use crate::app::survey::metrics::{compute_scores, Request};

/// The setting that shows couriers their city's leaderboard (`on`); off
/// unless the company turns it on.
pub const LEADERBOARD_SETTING: &str = "courier_leaderboard";

/// Weeks shown: this one and the four before.
const WEEKS: i64 = 5;
/// Most compliments shown.
const COMPLIMENTS: i64 = 20;
/// Most colleagues the leaderboard names (the courier is always on it).
const LEADERS: usize = 10;

/// One week of the courier's and his city's scores.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeekScores {
    /// The week's Monday, `YYYY-MM-DD`.
    pub week: String,
    /// The current week: not over yet.
    pub so_far: bool,
    /// His completed surveys.
    pub surveys: i64,
    pub nps: Option<f64>,
    pub nps_ci95_low: Option<f64>,
    pub nps_ci95_high: Option<f64>,
    pub nps_n: i64,
    /// His city's NPS that week (every courier's answers there).
    pub city_nps: Option<f64>,
    pub city_nps_n: i64,
}

/// Words a promoter wrote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Compliment {
    /// The day it was said, `YYYY-MM-DD`.
    pub date: String,
    pub text: String,
}

/// A colleague's place on the city's leaderboard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Colleague {
    pub rank: usize,
    pub name: String,
    pub nps: Option<f64>,
    pub nps_n: i64,
    /// This terminal's courier.
    pub you: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwnScores {
    pub courier_id: String,
    /// The city most of his answered orders were in over the five weeks.
    pub city: Option<String>,
    /// Oldest first; the last is this week so far.
    pub weeks: Vec<WeekScores>,
    pub compliments: Vec<Compliment>,
    /// The four full weeks before this one, his city's couriers with enough
    /// answers ranked; `null` when the company shows no leaderboard.
    pub leaderboard: Option<Vec<Colleague>>,
    /// When these figures were counted (the terminal shows it offline).
    pub counted_at: String,
}

/// Whether couriers see their city's leaderboard.
pub async fn leaderboard_on(store: &Store) -> Result<bool, doorstep_store::StoreError> {
    Ok(store.setting(LEADERBOARD_SETTING).await?.as_deref() == Some("on"))
}

/// The courier's scores as of now.
pub async fn own_scores(
    store: &Store,
    deployment: &Deployment,
    courier_id: &str,
) -> anyhow::Result<OwnScores> {
    let tz = deployment.tz();
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(tz.clone()).date();
    let this_week = week_start(day_number(today));
    let first_week = this_week - 7 * (WEEKS - 1);
    let from = date_of_day(first_week);
    let courier = Dimensions {
        courier: Some(courier_id.to_owned()),
        ..Dimensions::default()
    };
    let mut by_city = Request::new(from, today, GroupBy::City);
    by_city.dims = courier.clone();
    let city = compute_scores(store, deployment, &by_city)
        .await?
        .groups
        .into_iter()
        .filter(|g| g.scores.responses > 0)
        .max_by_key(|g| g.scores.responses)
        .map(|g| g.key);
    let weekly = |dims: Dimensions| {
        let mut req = Request::new(from, today, GroupBy::Week);
        req.dims = dims;
        req
    };
    let mine = compute_scores(store, deployment, &weekly(courier)).await?;
    let theirs = match &city {
        Some(c) => Some(
            compute_scores(
                store,
                deployment,
                &weekly(Dimensions {
                    city: Some(c.clone()),
                    ..Dimensions::default()
                }),
            )
            .await?,
        ),
        None => None,
    };
    let weeks = (0..WEEKS)
        .map(|i| {
            let week = date_of_day(first_week + 7 * i).to_string();
            let m = mine
                .groups
                .iter()
                .find(|g| g.key == week)
                .map(|g| &g.scores);
            let c = theirs
                .as_ref()
                .and_then(|a| a.groups.iter().find(|g| g.key == week))
                .map(|g| &g.scores);
            WeekScores {
                so_far: i == WEEKS - 1,
                surveys: m.map_or(0, |s| s.responses),
                nps: m.and_then(|s| s.nps),
                nps_ci95_low: m.and_then(|s| s.nps_ci95_low),
                nps_ci95_high: m.and_then(|s| s.nps_ci95_high),
                nps_n: m.map_or(0, |s| s.nps_n),
                city_nps: c.and_then(|s| s.nps),
                city_nps_n: c.map_or(0, |s| s.nps_n),
                week,
            }
        })
        .collect();
    // A day before the first week: an order promised late on Sunday is
    // answered on Monday.
    let since = doorstep_domain::time::day_range(from, from, &tz)
        .0
        .as_millisecond()
        - 86_400_000;
    let compliments = store
        .promoter_comments(courier_id, since, COMPLIMENTS)
        .await?
        .into_iter()
        .map(|(at, text)| Compliment {
            date: from_millis(at).to_zoned(tz.clone()).date().to_string(),
            text: without_contacts(&text),
        })
        .collect();
    let leaderboard = match (&city, leaderboard_on(store).await?) {
        (Some(c), true) if this_week > first_week => {
            let mut req = Request::new(from, date_of_day(this_week - 1), GroupBy::Courier);
            req.dims = Dimensions {
                city: Some(c.clone()),
                ..Dimensions::default()
            };
            // Ranked as the console ranks them; the self-filling signals
            // the console adds are not a courier's to see.
            let ranked = compute_scores(store, deployment, &req).await?;
            let mut rows: Vec<_> = ranked
                .groups
                .into_iter()
                .filter_map(|g| g.rank.map(|r| (r, g)))
                .collect();
            rows.sort_by_key(|(r, _)| *r);
            Some(
                rows.into_iter()
                    .filter(|(r, g)| *r <= LEADERS || g.key == courier_id)
                    .map(|(rank, g)| Colleague {
                        rank,
                        you: g.key == courier_id,
                        name: g.label,
                        nps: g.scores.nps,
                        nps_n: g.scores.nps_n,
                    })
                    .collect(),
            )
        }
        _ => None,
    };
    Ok(OwnScores {
        courier_id: courier_id.to_owned(),
        city,
        weeks,
        compliments,
        leaderboard,
        counted_at: now.to_string(),
    })
}

/// A customer's words with what could reach them taken out: e-mail
/// addresses and phone-like runs of digits become "…".
pub fn without_contacts(text: &str) -> String {
    let words: Vec<String> = text
        .split(' ')
        .map(|w| {
            if w.contains('@') && w.contains('.') {
                "…".to_owned()
            } else {
                w.to_owned()
            }
        })
        .collect();
    let joined = words.join(" ");
    // Runs of digits with the separators phones are written with.
    let mut out = String::with_capacity(joined.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if digits >= 6 {
            // What follows the last digit (a space, a full stop) stays.
            let end = run.rfind(|c: char| c.is_ascii_digit()).map_or(0, |i| i + 1);
            out.push('…');
            out.push_str(&run[end..]);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for ch in joined.chars() {
        let phone_part = ch.is_ascii_digit()
            || (!run.is_empty() && matches!(ch, ' ' | '-' | '(' | ')' | '.'))
            || (run.is_empty() && ch == '+');
        if phone_part {
            run.push(ch);
        } else {
            flush(&mut run, &mut out);
            out.push(ch);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::without_contacts;

    #[test]
    fn phones_and_addresses_are_taken_out_of_compliments() {
        assert_eq!(
            without_contacts("Иван молодец, звоните +7 (916) 123-45-67 или ivan@mail.ru!"),
            "Иван молодец, звоните … или …"
        );
        assert_eq!(
            without_contacts("Привёз за 15 минут, 10 из 10"),
            "Привёз за 15 минут, 10 из 10"
        );
        assert_eq!(without_contacts("code 0631234567."), "code ….");
    }
}
