//! People, their sessions, machine tokens and terminal enrolment codes.
//! Secrets arrive here already hashed: the store never sees a password, a
//! session cookie or a bearer token in clear.

use crate::db::sql;
use crate::{now_millis, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub login: String,
    pub role: String,
    pub language: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// The user behind a session cookie, with the session's CSRF token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    pub id: String,
    pub login: String,
    pub role: String,
    pub language: String,
    pub csrf_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: String,
    pub courier_id: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub struct NewApiToken<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub token_hash: &'a str,
    pub courier_id: Option<&'a str>,
}

const USER_COLUMNS: &str = "id, login, role, language, created_at, disabled_at";
pub(crate) const TOKEN_COLUMNS: &str =
    "id, name, role, courier_id, created_at, last_used_at, revoked_at";

impl Store {
    /// Adds a person; a taken login is a unique violation for the caller to word.
    pub async fn create_user(
        &self,
        login: &str,
        password_hash: &str,
        role: &str,
        language: &str,
    ) -> Result<User, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.db
            .write_one(
                sql(format!(
                    "INSERT INTO users (id, login, password_hash, role, language, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
                ))
                .bind(id)
                .bind(login)
                .bind(password_hash)
                .bind(role)
                .bind(language)
                .bind(now_millis()),
            )
            .await
    }

    /// Makes the first administrator, `admin`, when there is no account at
    /// all; `None` when there is one (made by another process starting at
    /// the same moment, say: the unique login decides, not a count).
    pub async fn create_first_admin(
        &self,
        password_hash: &str,
    ) -> Result<Option<User>, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.db
            .write_opt(
                sql(format!(
                    "INSERT INTO users (id, login, password_hash, role, language, created_at) \
                     SELECT $1, 'admin', $2, 'admin', 'ru', $3 WHERE NOT EXISTS (SELECT 1 FROM users) \
                     ON CONFLICT (login) DO NOTHING RETURNING {USER_COLUMNS}"
                ))
                .bind(id)
                .bind(password_hash)
                .bind(now_millis()),
            )
            .await
    }

    /// The user and their password hash, for signing in.
    pub async fn user_for_login(&self, login: &str) -> Result<Option<(User, String)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: User,
            password_hash: String,
        }
        let row: Option<Row> = self
            .db
            .opt(
                sql(format!(
                    "SELECT {USER_COLUMNS}, password_hash FROM users WHERE login = $1"
                ))
                .bind(login),
            )
            .await?;
        Ok(row.map(|r| (r.user, r.password_hash)))
    }

    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.db
            .all(sql(format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY login"
            )))
            .await
    }

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = self.db.one(sql("SELECT COUNT(*) FROM users")).await?;
        Ok(n)
    }

    pub async fn set_user_language(&self, user_id: &str, language: &str) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("UPDATE users SET language = $1 WHERE id = $2")
                    .bind(language)
                    .bind(user_id),
            )
            .await
            .map(|_| ())
    }

    /// Sets a new password and signs the user out everywhere.
    pub async fn set_user_password(
        &self,
        login: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .exec(
                sql("UPDATE users SET password_hash = $1 WHERE login = $2")
                    .bind(password_hash)
                    .bind(login),
            )
            .await?;
        tx.exec(
            sql("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE login = $1)")
                .bind(login),
        )
        .await?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        // Sweep expired sessions while we hold the write lock anyway.
        tx.exec(sql("DELETE FROM sessions WHERE expires_at < $1").bind(now))
            .await?;
        tx.exec(
            sql("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(token_hash)
                .bind(user_id)
                .bind(csrf_token)
                .bind(now)
                .bind(expires_at),
        )
        .await?;
        tx.commit().await
    }

    /// The signed-in user of a live session; none when expired or disabled.
    pub async fn session_user(&self, token_hash: &str) -> Result<Option<SessionUser>, StoreError> {
        self.db
            .opt(
                sql(
                    "SELECT u.id, u.login, u.role, u.language, s.csrf_token FROM sessions s \
                     JOIN users u ON u.id = s.user_id \
                     WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
                )
                .bind(token_hash)
                .bind(now_millis()),
            )
            .await
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.db
            .exec(sql("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash))
            .await
            .map(|_| ())
    }

    pub async fn create_token(&self, new: &NewApiToken<'_>) -> Result<ApiToken, StoreError> {
        self.db
            .write_one(
                sql(format!(
                    "INSERT INTO api_tokens (id, name, role, token_hash, courier_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLUMNS}"
                ))
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(new.name)
                .bind(new.role)
                .bind(new.token_hash)
                .bind(new.courier_id)
                .bind(now_millis()),
            )
            .await
    }

    /// A live (not revoked) token by its hash.
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>, StoreError> {
        self.db
            .opt(
                sql(format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
                ))
                .bind(token_hash),
            )
            .await
    }

    pub async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.db
            .all(sql(format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY revoked_at IS NOT NULL, created_at DESC")))
            .await
    }

    /// Revokes a token by id or by name; false when no live token matched.
    /// Each revocation is published as a `token.revoked` event (`{"id"}`)
    /// in the same transaction: every process forgets the tokens it had
    /// checked when it hears of it.
    pub async fn revoke_token(&self, id_or_name: &str) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await?;
        let ids: Vec<(String,)> = tx
            .all(
                sql("UPDATE api_tokens SET revoked_at = $1 \
                     WHERE (id = $2 OR name = $2) AND revoked_at IS NULL RETURNING id")
                .bind(now_millis())
                .bind(id_or_name),
            )
            .await?;
        let events: Vec<crate::events::NewEvent> = ids
            .iter()
            .map(|(id,)| {
                crate::events::NewEvent::new("token.revoked", &serde_json::json!({ "id": id }))
            })
            .collect();
        self.commit_with_events(tx, &events).await?;
        Ok(!ids.is_empty())
    }

    pub async fn touch_token(&self, id: &str) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(now_millis())
                    .bind(id),
            )
            .await
            .map(|_| ())
    }

    pub async fn create_enrollment_code(
        &self,
        code_hash: &str,
        courier_id: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.db
            .exec(
                sql("INSERT INTO enrollment_codes (code_hash, courier_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(code_hash)
                    .bind(courier_id)
                    .bind(now_millis())
                    .bind(expires_at),
            )
            .await
            .map(|_| ())
    }

    /// Exchanges a live enrolment code for a terminal token, once.
    pub async fn redeem_enrollment_code(
        &self,
        code_hash: &str,
        token_hash: &str,
        device_name: &str,
    ) -> Result<Option<ApiToken>, StoreError> {
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        let courier: Option<(String,)> = tx
            .opt(
                sql("UPDATE enrollment_codes SET used_at = $1 \
                     WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING courier_id")
                .bind(now)
                .bind(code_hash),
            )
            .await?;
        let Some((courier_id,)) = courier else {
            return Ok(None);
        };
        let token = tx
            .one(
                sql(format!(
                    "INSERT INTO api_tokens (id, name, role, token_hash, courier_id, created_at) \
                     VALUES ($1, $2, 'terminal', $3, $4, $5) RETURNING {TOKEN_COLUMNS}"
                ))
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(device_name)
                .bind(token_hash)
                .bind(courier_id)
                .bind(now),
            )
            .await?;
        tx.commit().await?;
        Ok(Some(token))
    }
}
