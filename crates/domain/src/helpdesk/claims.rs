//! Claim-abuse signals (seed 002: customers who photograph damage that
//! never happened to win a bonus). A customer's compensated claims are
//! judged against the population's claim rate on the chance spread for
//! their number of orders — as the courier signals are — so a customer
//! with one unlucky order among three is never marked, and one whose
//! claims are far beyond what chance gives for their orders is, before an
//! operator pays again.

use serde::Serialize;

/// How unlikely by chance a customer's claims must be to be marked.
pub const P_LIMIT: f64 = 0.001;

/// The fewest compensated claims that can mark a customer.
pub const MIN_CLAIMS: u64 = 3;

/// Claims must also be this many times the population's rate: a
/// difference that matters, however sure the statistics.
pub const MIN_RATIO: f64 = 3.0;

/// What marks a customer, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimSignal {
    /// Compensated claims and delivered orders of the customer.
    pub claims: u64,
    pub orders: u64,
    /// Claims the population's rate would give for this many orders.
    pub expected: f64,
    /// The population's claims per delivered order.
    pub population_rate: f64,
    /// The chance of this many claims or more at the population's rate.
    pub p_value: f64,
}

/// P(X ≥ k) for X ~ Binomial(n, p), summed exactly (k is small in
/// practice; the sum stops once its terms no longer count).
pub fn binomial_upper_tail(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    // P(X = k) by logs, then each next term by the ratio.
    let ln_choose = ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k);
    let mut term = (ln_choose + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp();
    let mut total = 0.0;
    let mut x = k;
    loop {
        total += term;
        if x == n || term < total * 1e-12 {
            break;
        }
        term *= (n - x) as f64 / (x + 1) as f64 * p / (1.0 - p);
        x += 1;
    }
    total.min(1.0)
}

fn ln_factorial(n: u64) -> f64 {
    (1..=n).map(|i| (i as f64).ln()).sum()
}

/// Judges a customer's claims: the signal when they are beyond chance
/// and beyond what matters, else `None`.
pub fn assess(
    claims: u64,
    orders: u64,
    population_claims: u64,
    population_orders: u64,
) -> Option<ClaimSignal> {
    if orders == 0 || population_orders == 0 || claims < MIN_CLAIMS {
        return None;
    }
    // The customer's own claims are part of the population: leave them out
    // so one heavy claimer does not raise the bar they are judged by.
    let others_orders = population_orders.saturating_sub(orders).max(1);
    let others_claims = population_claims.saturating_sub(claims);
    // Never judge against a rate of zero (no one else ever claimed): half
    // a claim among everyone's orders is the least one can assume.
    let rate = (others_claims as f64).max(0.5) / others_orders as f64;
    let expected = rate * orders as f64;
    let p_value = binomial_upper_tail(claims, orders, rate);
    (p_value < P_LIMIT && claims as f64 >= MIN_RATIO * expected).then_some(ClaimSignal {
        claims,
        orders,
        expected,
        population_rate: rate,
        p_value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_matches_hand_computed_values() {
        // P(X >= 1), n = 3, p = 0.5: 1 - 0.125.
        assert!((binomial_upper_tail(1, 3, 0.5) - 0.875).abs() < 1e-12);
        // P(X >= 2), n = 4, p = 0.1: 6·0.01·0.81 + 4·0.001·0.9 + 0.0001.
        assert!((binomial_upper_tail(2, 4, 0.1) - 0.0523).abs() < 1e-12);
        // Certain and impossible tails, exactly.
        assert!((binomial_upper_tail(0, 5, 0.2) - 1.0).abs() < f64::EPSILON);
        assert!(binomial_upper_tail(6, 5, 0.2).abs() < f64::EPSILON);
    }

    #[test]
    fn many_claims_on_few_orders_are_marked_with_their_evidence() {
        // 5 claims on 6 orders where 1 in 150 orders is claimed.
        let s = assess(5, 6, 155, 22_006).expect("marked");
        assert_eq!((s.claims, s.orders), (5, 6));
        assert!(s.p_value < 1e-6, "{s:?}");
        assert!((s.population_rate - 150.0 / 22_000.0).abs() < 1e-9);
    }

    #[test]
    fn an_unlucky_customer_is_not_marked() {
        // Two claims on three orders: rare, but too few to call a pattern.
        assert_eq!(assess(2, 3, 152, 22_003), None);
        // Three claims on 400 orders at 1 in 150: chance gives 2.7.
        assert_eq!(assess(3, 400, 150, 22_000), None);
        // Where everyone claims a lot, a lot is normal.
        assert_eq!(assess(4, 10, 8_000, 20_000), None);
    }

    #[test]
    fn a_population_without_claims_does_not_divide_by_zero() {
        let s = assess(3, 3, 3, 1_000).expect("three claims on three orders");
        assert!(s.population_rate > 0.0 && s.p_value < P_LIMIT);
    }
}
