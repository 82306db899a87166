//! Integration tests: the real application, per test, on SQLite and on
//! PostgreSQL (one test binary, so the suite links once).

mod access;
mod api;
mod attachments;
mod bot;
mod browser;
mod callback;
mod calls;
mod causes;
mod cli;
mod courier_scores;
mod email;
mod embed;
mod events;
mod gateways;
mod helpdesk;
mod helpers;
mod inspections;
mod late;
mod mailserver;
mod mass;
mod notices;
mod pages;
mod recordings;
mod refusals;
mod reliability;
mod reports;
mod serve;
mod smtp;
mod status_page;
mod support;
mod surveys;
