//! Sections whose capability comes in a later release. Each page says what
//! it will hold and where that data comes from; it shows no made-up figures.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{render, Chrome};
use crate::http::auth::{AnyStaff, CallsDesk, CurrentUser, DispatchDesk, Staff};
use crate::http::AppState;

#[derive(Template)]
#[template(path = "roadmap.html")]
struct RoadmapPage {
    c: Chrome,
    lead: String,
    points: Vec<String>,
    meanwhile: String,
}

fn roadmap(app: &AppState, user: &CurrentUser, href: &str, key: &str) -> Response {
    let c = Chrome::new(app, user, href, &format!("nav-{key}"));
    let t = c.tr;
    let view = RoadmapPage {
        lead: t.t(&format!("roadmap-{key}-lead")),
        points: (1..=4)
            .map(|i| t.t(&format!("roadmap-{key}-{i}")))
            .collect(),
        meanwhile: t.t("roadmap-meanwhile"),
        c,
    };
    render(&view)
}

pub async fn incidents(
    State(app): State<AppState>,
    Staff(user, _): Staff<DispatchDesk>,
) -> Response {
    roadmap(&app, &user, "/incidents", "incidents")
}

pub async fn cases(State(app): State<AppState>, Staff(user, _): Staff<AnyStaff>) -> Response {
    roadmap(&app, &user, "/cases", "cases")
}

pub async fn calls(State(app): State<AppState>, Staff(user, _): Staff<CallsDesk>) -> Response {
    roadmap(&app, &user, "/calls", "calls")
}
