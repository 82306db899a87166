//! `serve --demo`: a deterministic, realistic delivery company to look at —
//! cities in several time zones, couriers, partners, repeat customers with
//! real-looking names and phones, three months of orders, some late, and
//! the door surveys answered for them.

mod calls;
pub mod door;
pub mod helpdesk;
pub mod surveys;

use std::fmt;

use doorstep_domain::{Country, Deployment, Money, OrderNumber, OrderRecord, Phone, Role};
use doorstep_store::Store;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::security::hash_password;

struct City {
    name: &'static str,
    zone: &'static str,
    country: &'static str,
    mobile_prefixes: &'static [&'static str],
    /// Share of all orders.
    weight: u32,
    names: &'static Names,
}

struct Names {
    male_first: &'static [&'static str],
    female_first: &'static [&'static str],
    male_last: &'static [&'static str],
    female_last: &'static [&'static str],
}

const RUSSIAN: Names = Names {
    male_first: &[
        "Александр",
        "Дмитрий",
        "Максим",
        "Сергей",
        "Андрей",
        "Алексей",
        "Артём",
        "Илья",
        "Кирилл",
        "Михаил",
        "Никита",
        "Иван",
        "Егор",
        "Роман",
        "Павел",
    ],
    female_first: &[
        "Анна",
        "Мария",
        "Елена",
        "Ольга",
        "Наталья",
        "Екатерина",
        "Татьяна",
        "Юлия",
        "Ирина",
        "Светлана",
        "Дарья",
        "Алина",
        "Ксения",
        "Виктория",
        "Полина",
    ],
    male_last: &[
        "Иванов",
        "Смирнов",
        "Кузнецов",
        "Попов",
        "Васильев",
        "Петров",
        "Соколов",
        "Михайлов",
        "Новиков",
        "Фёдоров",
        "Морозов",
        "Волков",
        "Алексеев",
        "Лебедев",
        "Семёнов",
        "Егоров",
        "Павлов",
        "Козлов",
    ],
    female_last: &[
        "Иванова",
        "Смирнова",
        "Кузнецова",
        "Попова",
        "Васильева",
        "Петрова",
        "Соколова",
        "Михайлова",
        "Новикова",
        "Фёдорова",
        "Морозова",
        "Волкова",
        "Алексеева",
        "Лебедева",
        "Семёнова",
        "Егорова",
        "Павлова",
        "Козлова",
    ],
};

const UKRAINIAN_SURNAMES: &[&str] = &[
    "Шевченко",
    "Коваленко",
    "Бондаренко",
    "Ткаченко",
    "Кравченко",
    "Олійник",
    "Шевчук",
    "Поліщук",
    "Бойко",
    "Мельник",
    "Савченко",
    "Руденко",
];

const UKRAINIAN: Names = Names {
    male_first: &[
        "Олександр",
        "Андрій",
        "Дмитро",
        "Сергій",
        "Микола",
        "Іван",
        "Богдан",
        "Тарас",
        "Юрій",
        "Василь",
        "Олег",
        "Петро",
    ],
    female_first: &[
        "Олена",
        "Наталія",
        "Тетяна",
        "Оксана",
        "Ірина",
        "Марія",
        "Юлія",
        "Катерина",
        "Світлана",
        "Галина",
        "Софія",
        "Анастасія",
    ],
    male_last: UKRAINIAN_SURNAMES,
    // Ukrainian surnames in -enko, -uk, -yk are the same for women and men.
    female_last: UKRAINIAN_SURNAMES,
};

const UZBEK: Names = Names {
    male_first: &[
        "Азиз",
        "Бахтиёр",
        "Жасур",
        "Рустам",
        "Шерзод",
        "Улугбек",
        "Фаррух",
        "Тимур",
        "Отабек",
        "Санжар",
        "Дилшод",
        "Бобур",
    ],
    female_first: &[
        "Дилноза",
        "Гульнора",
        "Нигора",
        "Мадина",
        "Шахноза",
        "Зарина",
        "Камола",
        "Феруза",
        "Севара",
        "Малика",
        "Нодира",
        "Лола",
    ],
    male_last: &[
        "Каримов",
        "Рахимов",
        "Юсупов",
        "Алиев",
        "Исмаилов",
        "Турсунов",
        "Абдуллаев",
        "Назаров",
        "Ахмедов",
        "Саидов",
        "Хасанов",
        "Мирзаев",
    ],
    female_last: &[
        "Каримова",
        "Рахимова",
        "Юсупова",
        "Алиева",
        "Исмаилова",
        "Турсунова",
        "Абдуллаева",
        "Назарова",
        "Ахмедова",
        "Саидова",
        "Хасанова",
        "Мирзаева",
    ],
};

const CITIES: &[City] = &[
    City {
        name: "Москва",
        zone: "Europe/Moscow",
        country: "RU",
        mobile_prefixes: &["916", "903", "925", "985", "926", "977"],
        weight: 40,
        names: &RUSSIAN,
    },
    City {
        name: "Новосибирск",
        zone: "Asia/Novosibirsk",
        country: "RU",
        mobile_prefixes: &["913", "923", "952", "961"],
        weight: 15,
        names: &RUSSIAN,
    },
    City {
        name: "Київ",
        zone: "Europe/Kyiv",
        country: "UA",
        mobile_prefixes: &["67", "50", "63", "93", "97"],
        weight: 25,
        names: &UKRAINIAN,
    },
    City {
        name: "Ташкент",
        zone: "Asia/Tashkent",
        country: "UZ",
        mobile_prefixes: &["90", "91", "93", "94", "97", "99"],
        weight: 20,
        names: &UZBEK,
    },
];

const PARTNERS: &[&str] = &[
    "Лавка у дома",
    "Перекрёсток",
    "Додо Пицца",
    "Аптека 24",
    "Цветочный двор",
    "ЭлектроМаркет",
    "Кафе «Самовар»",
];

const DAYS: i64 = 90;
const ORDERS: usize = 24_000;
const COURIERS_PER_CITY: usize = 12;

/// What the demo put in the database.
pub struct Summary {
    pub orders: usize,
    pub customers: usize,
    pub couriers: usize,
    pub cities: usize,
    pub partners: usize,
    /// Survey responses (completed, refused and timed out).
    pub responses: usize,
    pub helpdesk: helpdesk::Summary,
    /// Calls to the contact center's queues.
    pub calls: usize,
    /// Recordings, refusals and inspections.
    pub door: door::Summary,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Demo data: {} orders of {} customers over {DAYS} days, {} couriers in {} cities, {} partners, \
             3 door surveys with {} responses ({} conversations recorded in the {} pilot), {} orders with items \
             refused at the door, {} mystery-shopper inspections; {} incidents ({} in the dispatcher's queue), \
             {} support cases, {} remedies, {} ratings of support; {} calls to the contact center.",
            self.orders,
            self.customers,
            self.couriers,
            self.cities,
            self.partners,
            self.responses,
            self.door.recordings,
            surveys::PILOT_CITY,
            self.door.refusals,
            self.door.inspections,
            self.helpdesk.incidents,
            self.helpdesk.open_incidents,
            self.helpdesk.cases,
            self.helpdesk.remedies,
            self.helpdesk.ratings,
            self.calls
        )
    }
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn person(rng: &mut StdRng, names: &Names) -> String {
    if rng.gen_bool(0.5) {
        format!(
            "{} {}",
            pick(rng, names.female_first),
            pick(rng, names.female_last)
        )
    } else {
        format!(
            "{} {}",
            pick(rng, names.male_first),
            pick(rng, names.male_last)
        )
    }
}

struct Customer {
    phone: Phone,
    name: String,
    email: Option<String>,
    city: usize,
}

fn customers(rng: &mut StdRng, count: usize) -> Vec<Customer> {
    let mut out = Vec::with_capacity(count);
    let mut seen = std::collections::HashSet::new();
    while out.len() < count {
        let city = weighted_city(rng);
        let c = &CITIES[city];
        let country = Country::from_code(c.country).expect("known country");
        let prefix = pick(rng, c.mobile_prefixes);
        let rest_len = country.national_len - prefix.len();
        let rest: String = (0..rest_len)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect();
        let Ok(phone) = Phone::parse(&format!("+{}{prefix}{rest}", country.calling_code), country)
        else {
            continue;
        };
        if !seen.insert(phone.clone()) {
            continue;
        }
        let name = person(rng, c.names);
        let email = rng
            .gen_bool(0.4)
            .then(|| format!("client{}@example.com", out.len() + 1));
        out.push(Customer {
            phone,
            name,
            email,
            city,
        });
    }
    out
}

fn weighted_city(rng: &mut StdRng) -> usize {
    let total: u32 = CITIES.iter().map(|c| c.weight).sum();
    let mut roll = rng.gen_range(0..total);
    for (i, c) in CITIES.iter().enumerate() {
        if roll < c.weight {
            return i;
        }
        roll -= c.weight;
    }
    0
}

/// Fills an empty database. The same seed on the same day gives the same data.
pub async fn load(store: &Store, seed: u64, data_dir: &std::path::Path) -> anyhow::Result<Summary> {
    let mut rng = StdRng::seed_from_u64(seed);
    let deployment = Deployment {
        name: "Быстрая доставка".to_owned(),
        ..Deployment::default()
    }
    .validated()?;
    store.save_deployment(&deployment).await?;
    // Beside the detractor rule every deployment starts with: a VIP left
    // without an answer is called at once.
    store
        .save_alert_rule(&doorstep_domain::helpdesk::alerts::AlertRule {
            id: "vip-timed-out".to_owned(),
            name: "VIP: нет ответа".to_owned(),
            enabled: true,
            priority: doorstep_domain::helpdesk::alerts::Priority::Urgent,
            condition: doorstep_domain::helpdesk::alerts::Condition::TimedOutAtVip,
        })
        .await?;
    for city in CITIES {
        store.set_city_time_zone(city.name, city.zone).await?;
    }
    // Couriers: a dozen per city; a few of them are noticeably often late.
    let mut couriers: Vec<Vec<(String, String, f64)>> = Vec::new();
    let mut number = 100;
    for city in CITIES {
        let mut here = Vec::new();
        for _ in 0..COURIERS_PER_CITY {
            number += 1;
            let lateness = if rng.gen_bool(0.15) {
                0.30
            } else {
                rng.gen_range(0.03..0.12)
            };
            here.push((
                format!("K-{number}"),
                person(&mut rng, city.names),
                lateness,
            ));
        }
        couriers.push(here);
    }
    let people = customers(&mut rng, 9_000);
    // A few loyal customers order often; most order once or twice.
    let loyal: Vec<usize> = (0..people.len()).filter(|_| rng.gen_bool(0.12)).collect();
    let today = Timestamp::now();
    let mut all = Vec::with_capacity(ORDERS);
    let mut ordered_by = Vec::with_capacity(ORDERS);
    for _ in 0..ORDERS {
        let who = if rng.gen_bool(0.45) {
            *pick(&mut rng, &loyal)
        } else {
            rng.gen_range(0..people.len())
        };
        let customer = &people[who];
        ordered_by.push(who);
        let city = &CITIES[customer.city];
        let tz = TimeZone::get(city.zone)?;
        // Orders spread over the period, a little more towards the end (growth).
        let day_back = (DAYS as f64 * rng.gen::<f64>().powf(1.3)) as i64;
        let local_day = today
            .to_zoned(tz.clone())
            .date()
            .checked_sub(day_back.days())?;
        let hour = rng.gen_range(9..22);
        let window_hours = if rng.gen_bool(0.7) { 1 } else { 2 };
        let start = local_day
            .at(hour, 0, 0, 0)
            .to_zoned(tz.clone())?
            .timestamp();
        let end = start.checked_add((window_hours * 60).minutes())?;
        let (courier_id, courier_name, lateness) = pick(&mut rng, &couriers[customer.city]).clone();
        let delivered_at = if end < today {
            // Past windows: delivered inside the window, or late by the courier's habit.
            let minutes = if rng.gen_bool(lateness) {
                window_hours * 60 + rng.gen_range(5..120)
            } else {
                rng.gen_range(0..window_hours * 60)
            };
            // A handful of past orders never got marked delivered: they show as late.
            (!rng.gen_bool(0.004))
                .then(|| start.checked_add(minutes.minutes()))
                .transpose()?
        } else {
            None
        };
        let partner = pick(&mut rng, PARTNERS).to_string();
        let amount = Money::from_minor(rng.gen_range(350..9000) * 100 + rng.gen_range(0..2) * 50);
        all.push(OrderRecord {
            // Numbered below, once the orders are in time order.
            order_number: OrderNumber::parse("D-0").map_err(anyhow::Error::msg)?,
            customer_phone: customer.phone.clone(),
            customer_name: Some(customer.name.clone()),
            customer_email: customer.email.clone(),
            city: city.name.to_owned(),
            partner: Some(partner),
            courier_id: Some(courier_id),
            courier_name: Some(courier_name),
            promised_from: start,
            promised_to: end,
            delivered_at,
            amount: Some(amount),
            // One customer in thirty is a VIP.
            customer_vip: Some(
                customer.phone.as_str().bytes().map(u32::from).sum::<u32>() % 30 == 0,
            ),
        });
    }
    // Order numbers grow with time, as a real system's do.
    all.sort_by_key(|o| o.promised_from);
    for (seq, order) in all.iter_mut().enumerate() {
        order.order_number =
            OrderNumber::parse(&format!("D-{:06}", 100_001 + seq)).map_err(anyhow::Error::msg)?;
    }
    for batch in all.chunks(2000) {
        store.upsert_orders(batch, &deployment.time_zone).await?;
    }
    let customers_used: std::collections::HashSet<usize> = ordered_by.into_iter().collect();
    let surveyed = surveys::load(store, &mut rng, &all).await?;
    let door = door::Summary {
        recordings: door::recordings(store, data_dir, &mut rng, &surveyed.consented).await?,
        refusals: door::refusals(store, &mut rng, &all).await?,
        inspections: door::inspections(store, &mut rng, &all).await?,
    };
    // Couriers see their city's leaderboard on the terminal's "My scores".
    store
        .set_setting(crate::app::survey::own_scores::LEADERBOARD_SETTING, "on")
        .await?;
    let helpdesk = Box::pin(helpdesk::load(store, &mut rng, &all)).await?;
    let calls = calls::load(store, &mut rng, DAYS).await?;
    Ok(Summary {
        responses: surveyed.responses,
        door,
        helpdesk,
        calls,
        orders: ORDERS,
        customers: customers_used.len(),
        couriers: CITIES.len() * COURIERS_PER_CITY,
        cities: CITIES.len(),
        partners: PARTNERS.len(),
    })
}

/// One account for each other role, so every part of the console can be tried.
pub async fn add_demo_accounts(store: &Store) -> anyhow::Result<Vec<(String, String)>> {
    let mut made = Vec::new();
    // Each login its own password: one shared by four is one leaked by four.
    for role in [Role::Quality, Role::Dispatcher, Role::Operator] {
        let password = crate::security::random_password();
        let to_hash = password.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&to_hash)).await??;
        store
            .create_user(role.as_str(), &hash, role.as_str(), "ru")
            .await?;
        made.push((role.as_str().to_owned(), password));
    }
    Ok(made)
}
