//! Webhooks: events delivered to a subscriber's URL, signed as the
//! Standard Webhooks specification describes (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature` = `v1,` + base64 of
//! HMAC-SHA256 over `id.timestamp.body` with the subscription's secret),
//! at least once and in event order per subscription.
//!
//! A failed attempt (no answer in 5 s, a status outside 2xx, a refused
//! address) is tried again with exponential backoff — 5 s, 10 s, 20 s, …
//! at most an hour apart — for 24 hours, and then marked failed; later
//! events wait behind it meanwhile, to keep the order. A subscription whose
//! deliveries have failed for three days without a success is disabled,
//! with the reason shown to administrators.
//!
//! Only http(s) URLs; loopback, link-local, private and other non-public
//! addresses are refused unless the subscription allows them. The check is
//! made on the resolved addresses at each delivery (the connection goes to
//! an address that passed it), so a name that later resolves elsewhere —
//! DNS rebinding — cannot get round it. Redirects are not followed and no
//! proxy from the environment is used, for the same reason.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use base64::Engine;
use doorstep_store::events::StoredEvent;
use doorstep_store::webhooks::{Attempt, Webhook};
use doorstep_store::Store;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a signing secret, as Standard Webhooks writes them.
pub const SECRET_PREFIX: &str = "whsec_";

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// How long a delivery is retried before it is marked failed.
pub const RETRY_FOR_MS: i64 = 24 * 60 * 60 * 1000;

/// How long a subscription may fail without a success before it is
/// disabled.
pub const DISABLE_AFTER_MS: i64 = 3 * 24 * 60 * 60 * 1000;

/// The event types a subscription may name (`*` for all).
pub const EVENT_TYPES: &[&str] = &[
    "response.created",
    "survey.published",
    "settings.changed",
    "causes.changed",
    "token.revoked",
    "incident.created",
    "incident.claimed",
    "incident.updated",
    "incident.closed",
    "case.created",
    "case.updated",
    "case.resolved",
    "case.handed_off",
    "case.replied",
    "case.sla_breached",
    "case.rated",
    "notice.sent",
    "remedy.applied",
    "remedy.requested",
    "remedy.pending_approval",
    "remedy.refused",
    "remedy.done",
    "remedy.failed",
    "remedy.reversed",
    "ledger.entry",
    "order.change_requested",
    "order.items_refused",
];

/// A fresh signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The `webhook-signature` header value for one message.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = base64::engine::general_purpose::STANDARD
        .decode(key)
        .unwrap_or_else(|_| key.as_bytes().to_vec());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// How far a signed message's timestamp may be from now (Standard
/// Webhooks' usual tolerance): an older one is a replay.
pub const SIGNATURE_TOLERANCE_S: i64 = 5 * 60;

/// Checks a message signed as Standard Webhooks says: its `webhook-id`,
/// `webhook-timestamp` (within [`SIGNATURE_TOLERANCE_S`] of `now_s`) and
/// one of the space-separated `v1,…` signatures in `webhook-signature`
/// (compared in constant time). The error says what is wrong.
pub fn verify(
    secret: &str,
    id: Option<&str>,
    timestamp: Option<&str>,
    signatures: Option<&str>,
    body: &[u8],
    now_s: i64,
) -> Result<(), String> {
    let (Some(id), Some(timestamp), Some(signatures)) = (id, timestamp, signatures) else {
        return Err("sign the message as Standard Webhooks says: the webhook-id, webhook-timestamp and webhook-signature headers are required".to_owned());
    };
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| format!("webhook-timestamp {timestamp:?} is not whole seconds since 1970"))?;
    if (now_s - at).abs() > SIGNATURE_TOLERANCE_S {
        return Err(format!(
            "webhook-timestamp {at} is more than {SIGNATURE_TOLERANCE_S} s from the server's clock ({now_s}): a replay, or a clock to set right"
        ));
    }
    let body = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_owned())?;
    let expected = sign(secret, id.trim(), at, body);
    let matches = signatures.split_whitespace().any(|given| {
        given.len() == expected.len()
            && given
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    });
    if matches {
        Ok(())
    } else {
        Err("webhook-signature does not match: sign `id.timestamp.body` with HMAC-SHA256 under the gateway's secret (see doorstep gateway add)".to_owned())
    }
}

/// Checks a subscription's URL: absolute http(s) with a host, no
/// credentials in it. The message says what is wrong.
pub fn check_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url.trim())
        .map_err(|e| format!("{url:?} is not a URL ({e}); give a full address such as https://example.com/hooks/doorstep"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "{url:?} uses {}:, but webhooks are sent over http or https only",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} names no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "{url:?} carries a user name or password; receivers check the signature instead"
        ));
    }
    Ok(parsed)
}

/// Checks the event types asked for; the cleaned list.
pub fn check_event_types(list: &str) -> Result<Vec<String>, String> {
    let mut types: Vec<String> = Vec::new();
    for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if t != "*" && !EVENT_TYPES.contains(&t) {
            return Err(format!(
                "{t:?} is not an event type; choose from {} (or * for all)",
                EVENT_TYPES.join(", ")
            ));
        }
        if !types.iter().any(|k| k == t) {
            types.push(t.to_owned());
        }
    }
    if types.is_empty() {
        return Err(format!(
            "name at least one event type: {} (or * for all)",
            EVENT_TYPES.join(", ")
        ));
    }
    Ok(types)
}

/// Whether an address is one a webhook may not reach without the
/// subscription's explicit permission: not a public unicast address.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                // Shared address space (carrier-grade NAT), benchmarking,
                // reserved.
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local fc00::/7, link-local fe80::/10.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                // Documentation 2001:db8::/32.
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Resolves names to public addresses only: the resolver of the client
/// that sends to subscriptions that did not allow private addresses.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| !is_private(a.ip()))
                .collect();
            if public.is_empty() {
                let shown: Vec<String> = all.iter().map(|a| a.ip().to_string()).collect();
                return Err(format!(
                    "{host} resolves to {}, which is not a public address; allow private addresses for this webhook if that is intended",
                    if shown.is_empty() { "nothing".to_owned() } else { shown.join(", ") }
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The two HTTP clients deliveries go through.
pub struct Sender {
    public_only: reqwest::Client,
    any: reqwest::Client,
}

impl Sender {
    pub fn new() -> anyhow::Result<Sender> {
        let base = || {
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                .connect_timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .user_agent(concat!("Doorstep-Webhooks/", env!("CARGO_PKG_VERSION")))
        };
        Ok(Sender {
            public_only: base()
                .dns_resolver(std::sync::Arc::new(PublicOnly))
                .build()?,
            any: base().build()?,
        })
    }

    /// Sends one event to one subscription, once; how it went (without the
    /// retry decision).
    pub async fn send(
        &self,
        webhook: &Webhook,
        event: &StoredEvent,
    ) -> (Option<u16>, i64, Option<String>) {
        let started = Instant::now();
        let elapsed = |s: Instant| s.elapsed().as_millis() as i64;
        let url = match check_url(&webhook.url) {
            Ok(url) => url,
            Err(e) => return (None, 0, Some(e)),
        };
        if !webhook.allow_private {
            // A literal address is not resolved: check it here.
            let literal = match url.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            };
            if let Some(ip) = literal.filter(|ip| is_private(*ip)) {
                return (
                    None,
                    0,
                    Some(format!(
                        "{ip} is not a public address; allow private addresses for this webhook if that is intended"
                    )),
                );
            }
        }
        let id = message_id(event);
        let timestamp = jiff::Timestamp::now().as_second();
        let body = payload(event);
        let client = if webhook.allow_private {
            &self.any
        } else {
            &self.public_only
        };
        let answer = client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                sign(&webhook.secret, &id, timestamp, &body),
            )
            .body(body)
            .send()
            .await;
        match answer {
            Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), elapsed(started), None),
            Ok(r) => {
                let status = r.status();
                (
                    Some(status.as_u16()),
                    elapsed(started),
                    Some(format!("the receiver answered {status}")),
                )
            }
            Err(e) if e.is_timeout() => (
                None,
                elapsed(started),
                Some(format!("no answer within {} s", TIMEOUT.as_secs())),
            ),
            Err(e) if e.is_connect() => (
                None,
                elapsed(started),
                Some(format!("cannot connect: {}", root_cause(&e))),
            ),
            Err(e) => (None, elapsed(started), Some(error_chain(&e))),
        }
    }
}

/// An error with its causes, as one line (reqwest's own message alone
/// says little: "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A new subscription, with its secret in the clear (to show once).
pub struct Subscribed {
    pub webhook: Webhook,
    pub secret: String,
}

/// Subscribes `url` to the comma-separated `event_types`: the one use case
/// behind `doorstep webhook add` and Settings → Webhooks. The error says
/// what to fix.
pub async fn subscribe(
    store: &Store,
    url: &str,
    event_types: &str,
    allow_private: bool,
    created_by: &str,
) -> Result<Subscribed, SubscribeError> {
    let parsed = check_url(url).map_err(SubscribeError::Invalid)?;
    let types = check_event_types(event_types).map_err(SubscribeError::Invalid)?;
    let secret = new_secret();
    let id = format!("wh_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let webhook = store
        .create_webhook(
            &id,
            parsed.as_str(),
            &types,
            &secret,
            allow_private,
            created_by,
        )
        .await
        .map_err(|e| SubscribeError::Store(e.into()))?;
    Ok(Subscribed { webhook, secret })
}

#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// The URL or the event types, with what to fix.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(anyhow::Error),
}

/// The innermost cause of an error: what actually went wrong ("Connection
/// refused", "Name or service not known", a refused address).
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The message id: the same for every attempt at one event, so receivers
/// can drop repeats.
pub fn message_id(event: &StoredEvent) -> String {
    format!("evt_{}", event.id)
}

/// The body: `{"type", "timestamp", "data"}`, as Standard Webhooks suggests.
pub fn payload(event: &StoredEvent) -> String {
    let data: serde_json::Value =
        serde_json::from_str(&event.data).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "type": event.name,
        "timestamp": doorstep_domain::time::from_millis(event.created_at).to_string(),
        "data": data,
    })
    .to_string()
}

/// The pause before attempt `n + 1` after `n` failed: 5 s doubling, at most
/// an hour.
pub fn backoff_ms(failed: i64) -> i64 {
    let exp = failed.clamp(1, 30) - 1;
    (5_000_i64 << exp.min(20)).min(60 * 60 * 1000)
}

/// Work for this long in one run of a subscription's job, then let the
/// runner take it again (so a lease is never held for long).
const RUN_FOR: Duration = Duration::from_secs(20);

/// How soon an idle subscription looks for new events.
const IDLE_MS: i64 = 1_000;

/// How soon a disabled subscription's job looks again (enabling it makes
/// the job due at once).
const DISABLED_LOOK_MS: i64 = 60 * 60 * 1000;

/// One run of a subscription's delivery job: queues new events, then sends
/// the pending ones oldest first until it must wait. Returns when it is due
/// again.
pub async fn run(store: &Store, sender: &Sender, webhook_id: &str) -> anyhow::Result<i64> {
    let started = Instant::now();
    let Some(webhook) = store.webhook(webhook_id).await? else {
        store
            .remove_job(&doorstep_store::webhooks::job_id(webhook_id))
            .await?;
        return Ok(i64::MAX);
    };
    if !webhook.enabled {
        return Ok(doorstep_store::now_millis() + DISABLED_LOOK_MS);
    }
    store.enqueue_webhook_events(&webhook).await?;
    while started.elapsed() < RUN_FOR {
        let now = doorstep_store::now_millis();
        let Some((delivery, event)) = store.next_webhook_delivery(webhook_id).await? else {
            if store.enqueue_webhook_events(&webhook).await? == 0 {
                return Ok(now + IDLE_MS);
            }
            continue;
        };
        if delivery.next_attempt_at > now {
            return Ok(delivery.next_attempt_at);
        }
        let attempt = match &event {
            None => Attempt {
                status: None,
                duration_ms: 0,
                error: Some("the event was pruned before it could be delivered".to_owned()),
                retry_at: None,
            },
            Some(event) => {
                let (status, duration_ms, error) = sender.send(&webhook, event).await;
                let failed = delivery.attempts + 1;
                let retry_at = error.as_ref().and_then(|_| {
                    let at = doorstep_store::now_millis() + backoff_ms(failed);
                    (at - delivery.created_at <= RETRY_FOR_MS).then_some(at)
                });
                Attempt {
                    status,
                    duration_ms,
                    error,
                    retry_at,
                }
            }
        };
        if let Some(e) = &attempt.error {
            tracing::info!(webhook = webhook_id, event = delivery.event_id, error = %e, "webhook delivery failed");
        }
        let failing_since = store
            .record_webhook_attempt(webhook_id, delivery.event_id, &attempt)
            .await?;
        if let Some(since) = failing_since {
            if doorstep_store::now_millis() - since >= DISABLE_AFTER_MS {
                let reason = format!(
                    "disabled on {}: every delivery failed since {} (last: {})",
                    doorstep_domain::time::from_millis(doorstep_store::now_millis()),
                    doorstep_domain::time::from_millis(since),
                    attempt.error.as_deref().unwrap_or("-")
                );
                tracing::error!(webhook = webhook_id, url = %webhook.url, "{reason}");
                store
                    .set_webhook_enabled(webhook_id, false, Some(&reason))
                    .await?;
                return Ok(doorstep_store::now_millis() + DISABLED_LOOK_MS);
            }
        }
        if let Some(at) = attempt.retry_at {
            return Ok(at);
        }
    }
    Ok(doorstep_store::now_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The specification's own test vector.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "255.255.255.255",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip} should be private");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip} should be public");
        }
    }

    #[test]
    fn urls_and_event_types_are_checked() {
        assert!(check_url("https://example.com/hook").is_ok());
        assert!(check_url("ftp://example.com/")
            .unwrap_err()
            .contains("http or https"));
        assert!(check_url("https://user:pw@example.com/").is_err());
        assert!(check_url("not a url").is_err());
        assert_eq!(
            check_event_types("response.created, response.created,*").unwrap(),
            vec!["response.created", "*"]
        );
        assert!(check_event_types("response.deleted")
            .unwrap_err()
            .contains("choose from"));
        assert!(check_event_types(" , ").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff_ms(1), 5_000);
        assert_eq!(backoff_ms(2), 10_000);
        assert_eq!(backoff_ms(3), 20_000);
        assert_eq!(backoff_ms(12), 60 * 60 * 1000);
        assert_eq!(backoff_ms(500), 60 * 60 * 1000);
    }
}
