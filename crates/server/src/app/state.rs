//! The application's state in one process: the store, and the caches
//! that spare it work (deployment settings, survey versions, the cause
//! vocabulary), kept current through the event stream; the event fan-out;
//! sign-in throttles. What every use case and every handler can reach.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use doorstep_domain::survey::causes::{Tagger, Vocabulary};
use doorstep_domain::survey::SurveyDefinition;
use doorstep_domain::Deployment;
use doorstep_store::Store;

use crate::app::events;

/// What every handler can reach.
pub struct App {
    pub store: Store,
    /// Cached deployment settings; replaced when an admin saves new ones.
    deployment: RwLock<Deployment>,
    /// Failed sign-ins per login and address.
    pub sign_in_throttle: crate::security::Throttle,
    /// Failed enrolment codes per address.
    pub enrol_throttle: crate::security::Throttle,
    /// Where attachments (photos, voice) are kept.
    pub data_dir: std::path::PathBuf,
    /// Survey versions read so far. A version never changes once
    /// published, so it is kept for the life of the process.
    survey_versions: RwLock<HashMap<(String, i64), Arc<SurveyDefinition>>>,
    /// Each survey's current version and when that was read.
    current_versions: RwLock<HashMap<String, (i64, Instant)>>,
    /// Live events for `GET /api/v1/events` and the live pages.
    pub events: Arc<events::EventHub>,
    /// The cause vocabulary and its rules, ready to tag with.
    causes: RwLock<(Arc<Vocabulary>, Arc<Tagger>)>,
    /// The re-tagging of all answers after the rules changed.
    pub retag: crate::app::survey::causes::Retag,
    /// Everyone's claims per delivered order, and when it was counted (a
    /// full count: kept a while).
    pub(crate) population_claims:
        RwLock<Option<(Instant, doorstep_store::helpdesk::file::ClaimCounts)>>,
    /// Small answer batches, committed together (group commit).
    pub committer: crate::app::survey::commit::Committer,
    /// Live bearer tokens checked lately, by hash, and when they were read:
    /// a client sending one answer per request is not one database read
    /// more each time. A `token.revoked` event empties it on every process.
    tokens: RwLock<HashMap<String, (Instant, doorstep_store::ApiToken)>>,
}

/// A lock's contents, even after a panic elsewhere poisoned it (the maps
/// behind these locks are caches: any state of them is valid).
fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How long "the current version of a survey" is trusted without asking the
/// database. A new version's `survey.published` event clears it on every
/// process within a second; this bounds a missed one.
const CURRENT_VERSION_TTL: Duration = Duration::from_mins(1);
/// How long a checked bearer token is trusted without asking the database:
/// a revocation's `token.revoked` event forgets it on every process within
/// a second; this bounds a missed one.
const TOKEN_TTL: Duration = Duration::from_secs(10);
/// Bearer tokens kept in memory at most; past it the cache starts empty.
const TOKENS_KEPT: usize = 10_000;
/// How long everyone's claim rate is kept before it is counted again.
const POPULATION_CLAIMS_TTL: Duration = Duration::from_mins(10);
/// Survey versions kept in memory at most (each is a few kilobytes).
const SURVEY_VERSIONS_KEPT: usize = 2_000;

/// Failed attempts allowed before a 15-minute wait.
const SIGN_IN_ATTEMPTS: u32 = 5;
const ENROL_ATTEMPTS: u32 = 10;
const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;

pub type AppState = Arc<App>;

impl App {
    pub async fn new(store: Store, data_dir: std::path::PathBuf) -> anyhow::Result<AppState> {
        let deployment = store.deployment().await?;
        let vocabulary = store.vocabulary().await?;
        let tagger = Arc::new(vocabulary.tagger());
        let events = Arc::new(events::EventHub::default());
        events.start(store.clone()).await?;
        let app = Arc::new(App {
            causes: RwLock::new((Arc::new(vocabulary), tagger)),
            retag: crate::app::survey::causes::Retag::default(),
            population_claims: RwLock::new(None),
            committer: crate::app::survey::commit::Committer::start(store.clone()),
            store,
            data_dir,
            survey_versions: RwLock::new(HashMap::new()),
            current_versions: RwLock::new(HashMap::new()),
            tokens: RwLock::new(HashMap::new()),
            events,
            deployment: RwLock::new(deployment),
            sign_in_throttle: crate::security::Throttle::new(SIGN_IN_ATTEMPTS, THROTTLE_WINDOW_MS),
            enrol_throttle: crate::security::Throttle::new(ENROL_ATTEMPTS, THROTTLE_WINDOW_MS),
        });
        follow_changes(&app);
        Ok(app)
    }

    /// Everyone's claims and delivered orders, counted at most every ten
    /// minutes.
    pub async fn population_claims(
        &self,
    ) -> Result<doorstep_store::helpdesk::file::ClaimCounts, doorstep_store::StoreError> {
        if let Some((at, counts)) = *read_lock(&self.population_claims) {
            if at.elapsed() < POPULATION_CLAIMS_TTL {
                return Ok(counts);
            }
        }
        let counts = self.store.population_claims().await?;
        *write_lock(&self.population_claims) = Some((Instant::now(), counts));
        Ok(counts)
    }

    /// A live bearer token by the hash of its secret: from memory when it
    /// was read within [`TOKEN_TTL`] and no revocation was heard of since.
    pub async fn token_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<doorstep_store::ApiToken>, doorstep_store::StoreError> {
        if let Some((at, token)) = read_lock(&self.tokens).get(hash) {
            if at.elapsed() < TOKEN_TTL {
                return Ok(Some(token.clone()));
            }
        }
        let token = self.store.token_by_hash(hash).await?;
        let mut kept = write_lock(&self.tokens);
        match &token {
            Some(t) => {
                if kept.len() >= TOKENS_KEPT {
                    kept.clear();
                }
                kept.insert(hash.to_owned(), (Instant::now(), t.clone()));
            }
            None => {
                kept.remove(hash);
            }
        }
        Ok(token)
    }

    /// Notes that a kept token was just marked as used.
    pub fn token_touched(&self, hash: &str, at: i64) {
        if let Some((_, token)) = write_lock(&self.tokens).get_mut(hash) {
            token.last_used_at = Some(at);
        }
    }

    /// Forgets every token checked so far (one was revoked).
    pub fn forget_tokens(&self) {
        write_lock(&self.tokens).clear();
    }

    pub fn deployment(&self) -> Deployment {
        self.deployment
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A survey at `version`, or at its current version: (version, definition).
    /// Read from memory when it can be; `None` when there is no such survey.
    pub async fn survey_version(
        &self,
        id: &str,
        version: Option<i64>,
    ) -> anyhow::Result<Option<(i64, Arc<SurveyDefinition>)>> {
        let wanted = version.or_else(|| {
            read_lock(&self.current_versions)
                .get(id)
                .filter(|(_, at)| at.elapsed() < CURRENT_VERSION_TTL)
                .map(|(v, _)| *v)
        });
        if let Some(v) = wanted {
            if let Some(d) = read_lock(&self.survey_versions).get(&(id.to_owned(), v)) {
                return Ok(Some((v, Arc::clone(d))));
            }
        }
        let Some(record) = self.store.survey(id, version).await? else {
            return Ok(None);
        };
        let definition: Arc<SurveyDefinition> =
            Arc::new(serde_json::from_str(&record.definition).map_err(|e| {
                anyhow::anyhow!("survey {id} v{} does not parse: {e}", record.version)
            })?);
        if version.is_none() {
            write_lock(&self.current_versions)
                .insert(id.to_owned(), (record.version, Instant::now()));
        }
        let mut kept = write_lock(&self.survey_versions);
        if kept.len() >= SURVEY_VERSIONS_KEPT {
            kept.clear();
        }
        kept.insert((id.to_owned(), record.version), Arc::clone(&definition));
        Ok(Some((record.version, definition)))
    }

    /// Forgets which version of a survey is current (after publishing one).
    pub fn survey_published(&self, id: &str) {
        self.current_versions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
    }

    /// The cause vocabulary in force.
    pub fn vocabulary(&self) -> Arc<Vocabulary> {
        Arc::clone(&read_lock(&self.causes).0)
    }

    /// Its rules, ready to tag with.
    pub fn tagger(&self) -> Arc<Tagger> {
        Arc::clone(&read_lock(&self.causes).1)
    }

    /// Puts a saved vocabulary in force (new answers are tagged by it).
    pub fn set_vocabulary(&self, v: Vocabulary) {
        let tagger = Arc::new(v.tagger());
        *write_lock(&self.causes) = (Arc::new(v), tagger);
    }

    pub fn set_deployment(&self, d: Deployment) {
        *self
            .deployment
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = d;
    }
}

/// Keeps this process's caches in step with changes made anywhere (this
/// process, or another on the same database): each change writes an event
/// with its transaction, and every process reloads what it names.
fn follow_changes(app: &AppState) {
    let mut live = app.events.subscribe();
    let app = Arc::downgrade(app);
    tokio::spawn(async move {
        loop {
            let event = match live.recv().await {
                Ok(event) => Some(event),
                // Missed some: reload everything to be safe.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let Some(app) = app.upgrade() else { return };
            let name = event.as_ref().map(|e| e.name.as_str());
            if matches!(name, None | Some("settings.changed")) {
                match app.store.deployment().await {
                    Ok(d) => app.set_deployment(d),
                    Err(e) => tracing::warn!(error = %e, "cannot reload the settings"),
                }
            }
            if matches!(name, None | Some("causes.changed")) {
                match app.store.vocabulary().await {
                    Ok(v) => app.set_vocabulary(v),
                    Err(e) => tracing::warn!(error = %e, "cannot reload the cause vocabulary"),
                }
            }
            if matches!(name, None | Some("token.revoked")) {
                app.forget_tokens();
            }
            match (name, event.as_ref()) {
                (None, _) => write_lock(&app.current_versions).clear(),
                (Some("survey.published"), Some(e)) => {
                    let id = serde_json::from_str::<serde_json::Value>(&e.data)
                        .ok()
                        .and_then(|d| d["id"].as_str().map(str::to_owned));
                    match id {
                        Some(id) => app.survey_published(&id),
                        None => write_lock(&app.current_versions).clear(),
                    }
                }
                _ => {}
            }
        }
    });
}
