//! A survey embedded in the company's customer account: a token the
//! company's server signs for one order opens that order's survey; a token
//! altered to name another order, an expired one or a made-up one opens
//! nothing.

use base64::Engine;

use crate::helpers::{order_json, TestApp};
use crate::on_both_backends;
use crate::surveys::with_orders_and_survey;
use doorstep::app::survey::embed::{key, sign, Claims};

on_both_backends!(a_signed_token_opens_its_orders_survey_and_no_other);

async fn a_signed_token_opens_its_orders_survey_and_no_other(backend: &str) {
    let a = TestApp::spawn(backend).await;
    with_orders_and_survey(
        &a,
        vec![
            order_json("A-1", "+79161234567", "K-1"),
            order_json("A-2", "+79167654321", "K-1"),
        ],
    )
    .await;
    let key = key(&a.store).await.unwrap();
    assert_eq!(
        key,
        doorstep::app::survey::embed::key(&a.store).await.unwrap(),
        "made once"
    );
    let now = jiff::Timestamp::now().as_second();
    let claims = Claims {
        order_number: "A-1".into(),
        exp: now + 3600,
        survey: None,
    };
    let token = sign(&key, &claims);
    let client = a.anonymous();
    let r = client
        .get(a.at(&format!("/embed?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/s/"), "{to}");
    let page = a.page(&client, &to).await;
    assert!(page.contains("<form"), "the survey: {page}");

    // The same signature over another order's payload: nothing.
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let other = b64.encode(
        serde_json::to_vec(&Claims {
            order_number: "A-2".into(),
            ..claims.clone()
        })
        .unwrap(),
    );
    let forged = format!("{other}.{}", token.split_once('.').unwrap().1);
    let r = client
        .get(a.at(&format!("/embed?token={forged}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers()["x-doorstep-reason"]
        .to_str()
        .unwrap()
        .contains("signature"));
    assert_eq!(
        r.headers()["x-frame-options"],
        "DENY",
        "no site may frame it unless allowed"
    );
    let expired = sign(
        &key,
        &Claims {
            exp: now - 1,
            ..claims.clone()
        },
    );
    let r = client
        .get(a.at(&format!("/embed?token={expired}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    for bad in ["", "abc", "abc.def"] {
        let r = client
            .get(a.at(&format!("/embed?token={bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{bad:?}");
    }
    // Signed with another deployment's key: nothing.
    let stranger = sign("dse_someone_else", &claims);
    let r = client
        .get(a.at(&format!("/embed?token={stranger}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The script that makes the frame.
    let js = client.get(a.at("/embed.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("/embed?token="));
}
