//! `/api/v1/orders`: orders in from the company's systems, one order out.

use axum::extract::{Path, State};
use axum::Json;
use doorstep_domain::time::from_millis;
use doorstep_domain::{Money, OrderInput};
use doorstep_store::OrderView;
use serde::{Deserialize, Serialize};

use crate::http::auth::{Bearer, Integration, IntegrationOrTerminal};
use crate::http::error::{ApiError, ApiJson, FieldProblem};
use crate::http::AppState;

/// Most orders one request may carry.
pub const MAX_BATCH: usize = 1000;

/// A text or a number: systems send amounts and phones either way.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Integer(i64),
    Decimal(f64),
}

impl Scalar {
    fn into_text(self) -> String {
        match self {
            Scalar::Text(s) => s,
            Scalar::Integer(n) => n.to_string(),
            Scalar::Decimal(n) => n.to_string(),
        }
    }
}

/// One order as the company's system knows it. Times are RFC 3339, or
/// local times (`2026-11-03 14:30`, `03.11.2026 14:30`) in the deployment's zone.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct OrderItem {
    order_number: Option<Scalar>,
    customer_phone: Option<Scalar>,
    customer_name: Option<String>,
    customer_email: Option<String>,
    city: Option<String>,
    partner: Option<String>,
    courier_id: Option<Scalar>,
    courier_name: Option<String>,
    promised_from: Option<String>,
    promised_to: Option<String>,
    delivered_at: Option<String>,
    /// `1234.50` as a number or a string (`"1 234,50"` too).
    amount: Option<Scalar>,
    /// The customer is a VIP (a survey timed out at their door can raise
    /// an incident); left out, what is stored stays.
    customer_vip: Option<bool>,
}

/// Up to 1,000 orders: a JSON array, or `{"orders": [...]}`. Each is
/// checked and stored on its own: a bad one never blocks the good ones.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // the schema of what `post_orders` reads item by item
pub enum OrderBatch {
    List(Vec<OrderItem>),
    Wrapped { orders: Vec<OrderItem> },
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderItemResult {
    /// Position in the request's `orders` list, from 0.
    index: usize,
    order_number: Option<String>,
    /// `inserted`, `updated`, `unchanged` or `rejected`.
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldProblem>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderBatchResult {
    inserted: u64,
    updated: u64,
    unchanged: u64,
    rejected: u64,
    items: Vec<OrderItemResult>,
}

/// An order as Doorstep holds it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderJson {
    order_number: String,
    customer_phone: String,
    customer_name: Option<String>,
    customer_email: Option<String>,
    city: String,
    partner: Option<String>,
    courier_id: Option<String>,
    courier_name: Option<String>,
    promised_from: String,
    promised_to: String,
    delivered_at: Option<String>,
    /// Decimal amount in the deployment's currency, e.g. `"1234.50"`.
    amount: Option<String>,
    /// The same amount in minor units (kopecks).
    amount_minor: Option<i64>,
    /// `new` (the customer's first order) or `repeat`.
    segment: &'static str,
    /// `pending`, `late`, `delivered_on_time` or `delivered_late`.
    delivery_status: &'static str,
    /// Items the customer refused at the door, as the courier recorded them.
    refused_items: Vec<RefusedItemJson>,
}

/// A refused item as recorded.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RefusedItemJson {
    /// The refusal it was recorded with (the client's id).
    refusal_id: String,
    /// The whole order was refused.
    whole_order: bool,
    /// What was refused ("" when the whole order was refused unnamed).
    item: String,
    quantity: i64,
    /// `damaged`, `wrong_item`, `not_ordered`, `changed_mind`, `quality` or `other`.
    reason: String,
    note: Option<String>,
    recorded_at: String,
}

impl RefusedItemJson {
    fn of(r: doorstep_store::refusals::RefusedRow) -> RefusedItemJson {
        RefusedItemJson {
            refusal_id: r.refusal_id,
            whole_order: r.whole_order,
            item: r.item,
            quantity: r.quantity,
            reason: r.reason,
            note: r.note,
            recorded_at: from_millis(r.recorded_at).to_string(),
        }
    }
}

impl OrderJson {
    pub fn from_view(
        o: OrderView,
        refused: Vec<doorstep_store::refusals::RefusedRow>,
    ) -> OrderJson {
        let now = doorstep_store::now_millis();
        OrderJson {
            refused_items: refused.into_iter().map(RefusedItemJson::of).collect(),
            segment: o.segment().as_str(),
            delivery_status: o.status(now).as_str(),
            promised_from: from_millis(o.promised_from).to_string(),
            promised_to: from_millis(o.promised_to).to_string(),
            delivered_at: o.delivered_at.map(|d| from_millis(d).to_string()),
            amount: o.amount_minor.map(|m| Money::from_minor(m).plain()),
            amount_minor: o.amount_minor,
            order_number: o.order_number,
            customer_phone: o.customer_phone,
            customer_name: o.customer_name,
            customer_email: o.customer_email,
            city: o.city,
            partner: o.partner,
            courier_id: o.courier_id,
            courier_name: o.courier_name,
        }
    }
}

/// Imports a batch of orders: upsert by order number. Answers per item;
/// re-sending the same orders changes nothing (`unchanged`).
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = OrderBatch,
    security(("bearer" = [])),
    responses(
        (status = 200, body = OrderBatchResult, description = "Every item answered; rejected ones say why"),
        (status = 401, body = crate::http::error::Problem), (status = 403, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem, description = "The body is not a batch of orders"),
    ))]
pub async fn post_orders(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<OrderBatchResult>, ApiError> {
    let raw = super::batch::items(body, "orders", MAX_BATCH)?;
    let deployment = app.deployment();
    let (tz, country) = (deployment.tz(), deployment.country());
    let mut items = Vec::with_capacity(raw.len());
    let mut valid = Vec::new();
    let mut valid_index = Vec::new();
    for (index, value) in raw.into_iter().enumerate() {
        let hint = value.get("order_number").and_then(|n| {
            n.as_str()
                .map(str::to_owned)
                .or_else(|| n.as_i64().map(|n| n.to_string()))
        });
        let item: OrderItem = match super::batch::item(value, "orders", index) {
            Ok(item) => item,
            Err(problem) => {
                items.push(OrderItemResult {
                    index,
                    order_number: hint,
                    status: "rejected",
                    errors: vec![problem],
                });
                continue;
            }
        };
        let input = OrderInput {
            order_number: item.order_number.map(Scalar::into_text),
            customer_phone: item.customer_phone.map(Scalar::into_text),
            customer_name: item.customer_name,
            customer_email: item.customer_email,
            city: item.city,
            partner: item.partner,
            courier_id: item.courier_id.map(Scalar::into_text),
            courier_name: item.courier_name,
            promised_from: item.promised_from,
            promised_to: item.promised_to,
            delivered_at: item.delivered_at,
            amount: item.amount.map(Scalar::into_text),
            customer_vip: item.customer_vip.map(|v| v.to_string()),
        };
        let order_number = input.order_number.as_deref().map(|s| s.trim().to_owned());
        match input.validate(&tz, country) {
            Ok(record) => {
                valid_index.push(items.len());
                valid.push(record);
                items.push(OrderItemResult {
                    index,
                    order_number,
                    status: "",
                    errors: Vec::new(),
                });
            }
            Err(errors) => items.push(OrderItemResult {
                index,
                order_number,
                status: "rejected",
                errors: errors
                    .into_iter()
                    .map(|e| FieldProblem {
                        field: format!("orders[{index}].{}", e.column),
                        message: e.message,
                    })
                    .collect(),
            }),
        }
    }
    let outcomes = if valid.is_empty() {
        Vec::new()
    } else {
        app.store
            .upsert_orders(&valid, &deployment.time_zone)
            .await?
    };
    for (slot, outcome) in valid_index.into_iter().zip(outcomes) {
        items[slot].status = outcome.as_str();
    }
    let count = |s: &str| items.iter().filter(|i| i.status == s).count() as u64;
    Ok(Json(OrderBatchResult {
        inserted: count("inserted"),
        updated: count("updated"),
        unchanged: count("unchanged"),
        rejected: count("rejected"),
        items,
    }))
}

fn no_order(number: &str) -> ApiError {
    ApiError::NotFound(format!(
        "there is no order {number:?}; check the number, or import the order first"
    ))
}

/// The order `number` as `caller` may see it: a terminal token only its
/// courier's orders (another's is "no such order", as an unknown one is).
async fn visible_order(
    app: &AppState,
    caller: &crate::http::auth::Caller,
    number: &str,
) -> Result<OrderView, ApiError> {
    let order = app
        .store
        .order(number.trim())
        .await?
        .ok_or_else(|| no_order(number))?;
    if caller.role == doorstep_domain::TokenRole::Terminal && order.courier_id != caller.courier_id
    {
        return Err(no_order(number));
    }
    Ok(order)
}

/// One order by its number. A terminal token sees only its courier's orders.
#[utoipa::path(get, path = "/api/v1/orders/{order_number}", tag = "orders",
    params(("order_number" = String, Path, description = "The company's order number")),
    security(("bearer" = [])),
    responses((status = 200, body = OrderJson), (status = 404, body = crate::http::error::Problem),
        (status = 401, body = crate::http::error::Problem)))]
pub async fn get_order(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<IntegrationOrTerminal>,
    Path(order_number): Path<String>,
) -> Result<Json<OrderJson>, ApiError> {
    let order = visible_order(&app, &caller, &order_number).await?;
    let refused = app
        .store
        .refused_items(&[order.order_number.as_str()])
        .await?;
    Ok(Json(OrderJson::from_view(order, refused)))
}

/// One refused item as a client sends it.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefusedItemIn {
    /// What was refused (`Молоко 1 л`); may be left empty when the whole
    /// order is refused.
    #[serde(default)]
    #[schema(max_length = 200)]
    item: String,
    /// How many (default 1).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    quantity: Option<i64>,
    /// `damaged`, `wrong_item`, `not_ordered`, `changed_mind`, `quality` or
    /// `other` (then `note` says what).
    #[schema(pattern = r"^\s*(damaged|wrong_item|not_ordered|changed_mind|quality|other)\s*$")]
    reason: String,
    #[serde(default)]
    note: Option<String>,
}

/// Items refused at the door, recorded by the courier's terminal or the
/// company's systems.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefusalIn {
    /// A UUID the client makes: sending the same refusal again records it once.
    #[schema(format = "uuid")]
    id: String,
    /// The customer refused the whole order.
    #[serde(default)]
    whole_order: bool,
    /// 1 to 100 items.
    #[schema(min_items = 1, max_items = 100)]
    items: Vec<RefusedItemIn>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RefusalResult {
    /// `created`, or `duplicate` when this id was recorded before.
    result: &'static str,
}

/// Records items the customer refused at the door (partly or wholly), with
/// their reasons: kept on the order and in the personal file, counted on
/// the dashboard, and sent to webhooks as `order.items_refused`. A terminal
/// may record them only for its courier's orders.
#[utoipa::path(post, path = "/api/v1/orders/{order_number}/refusals", tag = "orders",
    params(("order_number" = String, Path, description = "The company's order number")),
    request_body = RefusalIn,
    security(("bearer" = [])),
    responses((status = 201, body = RefusalResult, description = "Recorded"),
        (status = 200, body = RefusalResult, description = "Recorded before with this id"),
        (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn record_refusal(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<IntegrationOrTerminal>,
    Path(order_number): Path<String>,
    ApiJson(body): ApiJson<RefusalIn>,
) -> Result<(axum::http::StatusCode, Json<RefusalResult>), ApiError> {
    use doorstep_domain::refusal::RefusedItem;
    use doorstep_store::refusals::{NewRefusal, Recorded};
    let id = uuid::Uuid::parse_str(body.id.trim())
        .map_err(|_| ApiError::invalid("id", format!("{:?} is not a UUID", body.id)))?
        .to_string();
    if body.items.is_empty() || body.items.len() > 100 {
        return Err(ApiError::invalid(
            "items",
            format!("{} items: send 1 to 100", body.items.len()),
        ));
    }
    let mut items = Vec::with_capacity(body.items.len());
    for (i, item) in body.items.iter().enumerate() {
        items.push(
            RefusedItem::check(
                &item.item,
                item.quantity,
                &item.reason,
                item.note.as_deref(),
                body.whole_order,
            )
            .map_err(|p| ApiError::invalid(&format!("items[{i}].{}", p.field), p.message))?,
        );
    }
    let order = visible_order(&app, &caller, &order_number).await?;
    let now = doorstep_store::now_millis();
    let recorded = app
        .store
        .record_refusal(&NewRefusal {
            id: &id,
            order: &order,
            whole_order: body.whole_order,
            items: &items,
            token_id: Some(&caller.token_id),
            recorded_at: now,
            day: doorstep_domain::time::local_day(now, &app.deployment().tz()).0,
        })
        .await?;
    Ok(match recorded {
        Recorded::Created => (
            axum::http::StatusCode::CREATED,
            Json(RefusalResult { result: "created" }),
        ),
        Recorded::Duplicate => (
            axum::http::StatusCode::OK,
            Json(RefusalResult {
                result: "duplicate",
            }),
        ),
    })
}
